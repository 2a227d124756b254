"""dwconv's exceptions: one family, each also deriving from the matching builtin."""
from . import _dwconv as _ext

__all__ = ["DwconvError", "InvalidValueError", "SizeOverflowError", "DwconvMemoryError",
           "NotSupportedError", "NoDeviceError", "DeviceError", "KernelNotSetError",
           "InternalError", "DwconvIOError"]

# The C library's status names (include/dwconv.h; the values are pinned there).
STATUS_NAMES = {
    0: "DWCONV_SUCCESS",
    1: "DWCONV_ERROR_INVALID_VALUE",
    2: "DWCONV_ERROR_SIZE_OVERFLOW",
    3: "DWCONV_ERROR_OUT_OF_MEMORY",
    4: "DWCONV_ERROR_NOT_SUPPORTED",
    5: "DWCONV_ERROR_NO_DEVICE",
    6: "DWCONV_ERROR_DEVICE",
    7: "DWCONV_ERROR_KERNEL_NOT_SET",
    8: "DWCONV_ERROR_INTERNAL",
    9: "DWCONV_ERROR_IO",
}


class DwconvError(Exception):
    """A dwconv call failed.

    Attributes
    ----------
    status : int
        The C library's ``dwconv_status`` value (1 = INVALID_VALUE, ... 9 = IO); 0 for errors
        found by the Python layer before any C call that have no status of their own.
    status_name : str
        Its name, e.g. ``"DWCONV_ERROR_INVALID_VALUE"``.
    """

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, "unknown status %d" % status)


class InvalidValueError(DwconvError, ValueError):
    """A bad argument: shape, mode, axis, stride, overlap (status INVALID_VALUE)."""


class SizeOverflowError(DwconvError, OverflowError):
    """Element or byte counts overflow, or exceed a backend limit (SIZE_OVERFLOW)."""


class DwconvMemoryError(DwconvError, MemoryError):
    """A host or device allocation failed (OUT_OF_MEMORY)."""


class NotSupportedError(DwconvError, NotImplementedError):
    """A valid request this build or backend cannot do (NOT_SUPPORTED)."""


class NoDeviceError(DwconvError, RuntimeError):
    """The CUDA backend was asked for, but there is no CUDA build or no usable GPU."""


class DeviceError(DwconvError, RuntimeError):
    """A CUDA runtime or cuFFT call failed (DEVICE)."""


class KernelNotSetError(DwconvError, RuntimeError):
    """Plan.execute before Plan.set_kernel (KERNEL_NOT_SET)."""


class InternalError(DwconvError, RuntimeError):
    """A bug in dwconv (INTERNAL): please report it with the message."""


class DwconvIOError(DwconvError, OSError):
    """A file could not be read or written (IO)."""


_BY_STATUS = {1: InvalidValueError, 2: SizeOverflowError, 3: DwconvMemoryError,
              4: NotSupportedError, 5: NoDeviceError, 6: DeviceError, 7: KernelNotSetError,
              8: InternalError, 9: DwconvIOError}


def error_for(status, context=""):
    """The exception for a non-zero C status, with the C library's message for this thread.

    Must be called right after the failing call, on the same thread (the message is
    dwconv_last_error(), which the next dwconv call replaces)."""
    msg = _ext.last_error() or _ext.status_string(status)
    if context:
        msg = "%s: %s" % (context, msg)
    cls = _BY_STATUS.get(status, InternalError)
    return cls(msg, status)
