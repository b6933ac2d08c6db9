"""Angles of a body segment from an IMU worn on it, over one repetition (degrees).

A wrist or limb IMU rotates with its segment: when the forearm flexes 90 deg at the elbow, a
sensor on the wrist turns 90 deg. The range of motion of an IMU-counted rep is therefore
reported as the sensor's rotation during the rep, in degrees, like the joint angles of
camera tracking (and comparable with a goniometer for single-joint, single-plane
movements, which most rehabilitation exercises are).

* :func:`rotation_angle_deg` (gyroscope): the angular velocity projected on the rep's main
  rotation axis (dominant principal direction of the angular-velocity vectors), integrated,
  with the mean rate removed so that the rep ends where it started: that removes the
  gyroscope's bias (typically 0.5-3 deg/s for MEMS sensors) over the few seconds of a rep.
* :func:`tilt_angle_deg` (accelerometer only): the direction of the low-passed acceleration
  is the direction of gravity in the sensor frame (the sensor's tilt); the signed angle
  between it and its direction at the rep's start, in the plane of the movement. Rotations
  about the vertical axis do not change the tilt and are not seen; fast reps add linear
  acceleration, so this is an estimate, best for slow movements.

References: Seel, Raisch & Schauer, "IMU-based joint angle measurement for gait analysis",
Sensors 2014, 14(4):6891-6909 (gyroscope integration and accelerometer inclination, and why
each needs the other's correction); Luinge & Veltink, Med Biol Eng Comput 2005, 43:273-282
(inclination from accelerometers during movement).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal as sps

_DEG_PER_RAD = 180.0 / math.pi


def rotation_angle_deg(t_s: np.ndarray, gyro_rad_s: np.ndarray) -> np.ndarray:
    """Rotation (deg) about the main axis of ``gyro_rad_s`` (``(n, 3)``, rad/s) since ``t_s[0]``.

    The mean angular velocity is removed first (a complete rep returns to its start; this
    also removes the sensor's bias), then the projection on the dominant rotation axis is
    integrated with the trapezoidal rule. Returns ``(n,)`` degrees, 0 at the first sample.
    """
    return rotation_about_main_axis(t_s, gyro_rad_s)[0]


def rotation_about_main_axis(
    t_s: np.ndarray, gyro_rad_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rotation_angle_deg` and its rate: ``(angle_deg, rate_deg_s)``, both ``(n,)``
    (the rate is the bias-removed angular velocity about the main axis)."""
    t = np.asarray(t_s, dtype=float)
    g = np.asarray(gyro_rad_s, dtype=float)
    if t.size < 2:
        return np.zeros(t.size), np.zeros(t.size)
    g = g - g.sum(axis=0) / g.shape[0]
    w = g @ _main_axis(g.T @ g)
    theta = np.concatenate(([0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(t))))
    if abs(theta.min()) > abs(theta.max()):  # the sign of an eigenvector is arbitrary
        theta = -theta
        w = -w
    return theta * _DEG_PER_RAD, w * _DEG_PER_RAD


def _main_axis(cov: np.ndarray) -> np.ndarray:
    """Dominant eigenvector of a 3 x 3 symmetric matrix: power iteration in plain floats
    (far cheaper than ``eigh`` per rep), accepted when it is an eigenvector to 1e-3 and
    its eigenvalue is at least the largest diagonal entry (a lower bound of the largest
    eigenvalue); ``eigh`` otherwise, e.g. from a start nearly perpendicular to the axis."""
    if cov.shape != (3, 3):
        return np.linalg.eigh(cov)[1][:, -1]
    (a, b, c), (_b, d, e), (_c, _e, f) = cov.tolist()
    diag = (a, d, f)
    k = diag.index(max(diag))
    x, y, z = ((a, b, c), (b, d, e), (c, e, f))[k]
    lam = 0.0
    for _ in range(6):
        n = math.sqrt(x * x + y * y + z * z)
        if not n > 0:
            return np.array([1.0, 0.0, 0.0])
        x, y, z = x / n, y / n, z / n
        wx, wy, wz = a * x + b * y + c * z, b * x + d * y + e * z, c * x + e * y + f * z
        lam = x * wx + y * wy + z * wz
        x, y, z = wx, wy, wz
    n = math.sqrt(x * x + y * y + z * z)
    if n > 0 and lam >= 0.999 * max(diag):
        ux, uy, uz = x / n, y / n, z / n
        rx, ry, rz = a * ux + b * uy + c * uz, b * ux + d * uy + e * uz, c * ux + e * uy + f * uz
        q = ux * rx + uy * ry + uz * rz
        if (rx - q * ux) ** 2 + (ry - q * uy) ** 2 + (rz - q * uz) ** 2 <= (1e-3 * q) ** 2:
            return np.array([ux, uy, uz])
    return np.linalg.eigh(cov)[1][:, -1]


def tilt_angle_deg(acc_m_s2: np.ndarray, fs_hz: float, lowpass_hz: float = 1.5) -> np.ndarray:
    """Signed tilt (deg) of the gravity direction from its direction at the first sample.

    ``acc_m_s2``: ``(n, 3)`` accelerometer rows (m/s^2, gravity included) at ``fs_hz``. The
    rows are low-passed (2nd-order Butterworth at ``lowpass_hz``, forward-backward, so no
    delay) to keep gravity and slow tilt and drop most linear acceleration, normalised to
    unit vectors ``u``, and the angle of each ``u`` from ``u[0]`` is measured about the axis
    ``u[0] x u_far`` (``u_far``: the direction farthest from ``u[0]``): positive towards
    the farthest point of the movement. Returns ``(n,)`` degrees.
    """
    a = np.asarray(acc_m_s2, dtype=float)
    n = a.shape[0]
    if n < 2:
        return np.zeros(n)
    fc = min(lowpass_hz, 0.45 * fs_hz)
    b, c = sps.butter(2, fc, fs=fs_hz)
    if n > 3 * max(len(b), len(c)):
        a = sps.filtfilt(b, c, a, axis=0)
    norm = np.linalg.norm(a, axis=1)
    ok = norm > 0
    if not ok.all():
        a = a[ok]
        norm = norm[ok]
        if a.shape[0] < 2:
            return np.zeros(n)
    u = a / norm[:, None]
    u0 = u[0]
    cos = np.clip(u @ u0, -1.0, 1.0)
    far = u[int(np.argmin(cos))]
    axis = np.cross(u0, far)
    s = float(np.linalg.norm(axis))
    if s < 1e-9:  # no tilt at all (or exactly opposite): unsigned angle
        theta = np.arccos(cos)
    else:
        axis /= s
        theta = np.arctan2(np.cross(u0, u) @ axis, cos)
    out = theta * _DEG_PER_RAD
    if not ok.all():
        full = np.zeros(n)
        full[ok] = out
        # rows with a zero vector (not a real reading) take the previous angle
        idx = np.maximum.accumulate(np.where(ok, np.arange(n), 0))
        out = full[idx]
    return out


__all__ = ["rotation_about_main_axis", "rotation_angle_deg", "tilt_angle_deg"]
