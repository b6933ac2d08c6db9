// The camera and MediaPipe's trackers, shared by the live session (static/live/) and the
// rhythm game (static/rhythm/): opening the camera with its problems named, and a landmarker
// on the GPU when there is a real one, else on the CPU.

// What went wrong when the camera was asked for: one of the keys of a page's CAMERA_PROBLEMS.
export function problemOf(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "none";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "other";
  }
}

// Start the camera into `video` (muted, inline) with these video constraints. Resolves with
// the stream once it plays; rejects with {problem, error}, `problem` from classify(error).
export async function openCamera(video, constraints, classify = problemOf) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw { problem: "insecure" };
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: constraints });
  } catch (error) {
    throw { problem: classify(error), error };
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  return stream;
}

export function stopCamera(video) {
  const stream = video.srcObject;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
}

// A "GPU" that is really software (SwiftShader, llvmpipe: virtual machines, no graphics
// driver) is far slower than MediaPipe's own CPU (wasm) path: skip it.
export function softwareGpu() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (!gl) return true;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(String(renderer));
  } catch {
    return true;
  }
}

// The delegate to try first on this device.
export function firstDelegate() {
  return softwareGpu() ? "CPU" : "GPU";
}

// A GPU this slow per frame (ms, on average) is worse than the CPU: switch.
export const SLOW_GPU_MS = 120;

// create(delegate) -> a landmarker; if it fails on the GPU, the CPU instead.
export async function withCpuFallback(create, delegate) {
  try {
    return await create(delegate);
  } catch (error) {
    if (delegate === "CPU") throw error;
    return create("CPU");
  }
}
