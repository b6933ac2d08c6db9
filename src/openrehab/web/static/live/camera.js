// The camera: ask for it, explain plainly when it cannot be used. The video stays here.

export const CAMERA_PROBLEMS = {
  denied:
    "The camera is blocked for this page. To use it, allow the camera in the browser's " +
    "address bar and try again. Or count with a button instead.",
  none: "No camera was found on this device. You can count with a button instead.",
  busy:
    "The camera is in use by another program (for example a video call). Close that " +
    "program and try again, or count with a button instead.",
  insecure:
    "This browser only allows the camera on a secure (https) address. Ask whoever set up " +
    "OpenRehab, or count with a button instead.",
  other: "The camera could not start. You can try again, or count with a button instead.",
};

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
    case "InsecureError":
      return "insecure";
    default:
      return "other";
  }
}

// Start the camera into `video`. Resolves with the stream; rejects with {problem}.
export async function startCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw { problem: "insecure" };
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (error) {
    throw { problem: problemOf(error), error };
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  if (!video.videoWidth) {
    await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  }
  return stream;
}

export function stopCamera(video) {
  const stream = video.srcObject;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
}
