// The camera: ask for it, explain plainly when it cannot be used. The video stays here.

import { openCamera, problemOf as cameraProblemOf, stopCamera } from "../shared/camera.js";

export { stopCamera };

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
  return error && error.name === "InsecureError" ? "insecure" : cameraProblemOf(error);
}

// Start the camera into `video`. Resolves with the stream; rejects with {problem}.
export async function startCamera(video) {
  const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
  const stream = await openCamera(video, { facingMode: "user", ...size }, problemOf);
  if (!video.videoWidth) {
    await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  }
  return stream;
}
