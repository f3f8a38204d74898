# cython: language_level=3
"""node._ed25519: many Ed25519 signature checks in one call, without the GIL.

The checks are libsodium's own crypto_sign_open, the copy PyNaCl ships: the caller
passes its address (node.crypto.batch finds it), so there is one Ed25519
implementation in the node, not two. What this module adds is the loop: the inputs
are copied once into one buffer while the GIL is held, then every check runs with it
released, so worker threads check signatures on all cores while Python code goes on.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport uint8_t, uintptr_t
from libc.string cimport memcpy

ctypedef int (*sign_open_fn)(unsigned char *m, unsigned long long *mlen_p,
                             const unsigned char *sm, unsigned long long smlen,
                             const unsigned char *pk) noexcept nogil

cdef enum:
    PUBLIC_KEY_SIZE = 32
    SIGNATURE_SIZE = 64


def verify_many(uintptr_t sign_open_address, list items) -> bytes:
    """One byte per (public_key, message, signature) item of `items`: 1 where the
    signature is valid, 0 where it is not or the item is malformed (a public key or
    signature of the wrong length, or anything but bytes)."""
    cdef sign_open_fn sign_open = <sign_open_fn>sign_open_address
    cdef Py_ssize_t count = len(items), i
    cdef size_t total = 0, length
    cdef bytearray verdicts = bytearray(count)
    cdef uint8_t *verdict = <uint8_t *>PyByteArray_AS_STRING(verdicts)
    cdef size_t *offsets = <size_t *>PyMem_Malloc((count + 1) * sizeof(size_t))
    cdef uint8_t *data
    cdef object public_key, message, signature
    if offsets == NULL:
        raise MemoryError()
    try:
        # Pass 1: lay out [public key | signature | message] per well-formed item.
        for i in range(count):
            public_key, message, signature = items[i]
            offsets[i] = total
            if _well_formed(public_key, message, signature):
                total += PUBLIC_KEY_SIZE + SIGNATURE_SIZE + PyBytes_GET_SIZE(message)
                verdict[i] = 1
        offsets[count] = total
        data = <uint8_t *>PyMem_Malloc(total or 1)
        if data == NULL:
            raise MemoryError()
        try:
            for i in range(count):
                if not verdict[i]:
                    continue
                public_key, message, signature = items[i]
                memcpy(data + offsets[i], PyBytes_AS_STRING(public_key), PUBLIC_KEY_SIZE)
                memcpy(data + offsets[i] + PUBLIC_KEY_SIZE, PyBytes_AS_STRING(signature),
                       SIGNATURE_SIZE)
                memcpy(data + offsets[i] + PUBLIC_KEY_SIZE + SIGNATURE_SIZE,
                       PyBytes_AS_STRING(message), PyBytes_GET_SIZE(message))
            with nogil:
                for i in range(count):
                    if verdict[i]:
                        length = offsets[i + 1] - offsets[i] - PUBLIC_KEY_SIZE
                        # A NULL output: libsodium checks without copying the message out.
                        verdict[i] = sign_open(NULL, NULL, data + offsets[i] + PUBLIC_KEY_SIZE,
                                               length, data + offsets[i]) == 0
        finally:
            PyMem_Free(data)
    finally:
        PyMem_Free(offsets)
    return bytes(verdicts)


cdef bint _well_formed(object public_key, object message, object signature):
    return (PyBytes_CheckExact(public_key) and PyBytes_GET_SIZE(public_key) == PUBLIC_KEY_SIZE
            and PyBytes_CheckExact(signature) and PyBytes_GET_SIZE(signature) == SIGNATURE_SIZE
            and PyBytes_CheckExact(message))
