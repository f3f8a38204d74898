# cython: language_level=3
"""node._aead: sealing and opening the frames of a secret link in one call each.

The cipher is libsodium's ChaCha20-Poly1305 (IETF), the copy PyNaCl ships: the caller
passes the addresses of its encrypt and decrypt functions (node.p2p.frame finds
them), so the bytes on the wire are exactly those of PyNaCl's binding. What this
module saves is the binding's per-call work, which costs a small frame about ten
times what the cipher does, and it builds the frame (length prefix, then
ciphertext) in the one bytes object it returns. Frames of 64 KiB or more are sealed
and opened with the GIL released.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint64_t, uintptr_t

ctypedef int (*encrypt_fn)(unsigned char *c, unsigned long long *clen_p,
                           const unsigned char *m, unsigned long long mlen,
                           const unsigned char *ad, unsigned long long adlen,
                           const unsigned char *nsec, const unsigned char *npub,
                           const unsigned char *k) noexcept nogil

ctypedef int (*decrypt_fn)(unsigned char *m, unsigned long long *mlen_p,
                           unsigned char *nsec, const unsigned char *c,
                           unsigned long long clen, const unsigned char *ad,
                           unsigned long long adlen, const unsigned char *npub,
                           const unsigned char *k) noexcept nogil

cdef enum:
    KEY_SIZE = 32
    NONCE_SIZE = 12
    TAG_SIZE = 16
    PREFIX_SIZE = 4
    UNLOCKED_FROM = 65536     # frames this large are worth dropping the GIL for


cdef inline void _nonce(uint8_t *nonce, uint64_t counter) noexcept:
    """Four zero bytes, then the frame counter as a u64 big-endian (node.p2p.frame)."""
    cdef int i
    for i in range(4):
        nonce[i] = 0
    for i in range(8):
        nonce[NONCE_SIZE - 1 - i] = <uint8_t>(counter >> (8 * i))


cdef inline void _check_key(bytes key) except *:
    if PyBytes_GET_SIZE(key) != KEY_SIZE:
        raise ValueError(f"a frame key is {KEY_SIZE} bytes")


def seal(uintptr_t encrypt_address, bytes key not None, uint64_t counter,
         bytes plaintext not None) -> bytes:
    """The wire bytes of frame number `counter`: the ciphertext's length as a u32
    big-endian, then the ciphertext, sealed with that prefix as associated data."""
    cdef encrypt_fn encrypt = <encrypt_fn>encrypt_address
    cdef Py_ssize_t size = PyBytes_GET_SIZE(plaintext)
    cdef uint64_t length = <uint64_t>size + TAG_SIZE
    cdef uint8_t nonce[NONCE_SIZE]
    cdef int failed
    _check_key(key)
    if length > 0xFFFFFFFF:
        raise ValueError("a frame's ciphertext length must fit in 32 bits")
    cdef bytes frame = PyBytes_FromStringAndSize(NULL, PREFIX_SIZE + length)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(frame)
    cdef const uint8_t *message = <const uint8_t *>PyBytes_AS_STRING(plaintext)
    cdef const uint8_t *k = <const uint8_t *>PyBytes_AS_STRING(key)
    out[0] = <uint8_t>(length >> 24)
    out[1] = <uint8_t>(length >> 16)
    out[2] = <uint8_t>(length >> 8)
    out[3] = <uint8_t>length
    _nonce(nonce, counter)
    if size >= UNLOCKED_FROM:
        with nogil:
            failed = encrypt(out + PREFIX_SIZE, NULL, message, size, out, PREFIX_SIZE, NULL,
                             nonce, k)
    else:
        failed = encrypt(out + PREFIX_SIZE, NULL, message, size, out, PREFIX_SIZE, NULL,
                         nonce, k)
    if failed:
        raise ValueError("libsodium refused to seal the frame")
    return frame


def open_(uintptr_t decrypt_address, bytes key not None, uint64_t counter,
          bytes prefix not None, bytes body not None):
    """The plaintext of frame number `counter` (`prefix` is its 4-byte length prefix,
    `body` the ciphertext), or None if it fails authentication."""
    cdef decrypt_fn decrypt = <decrypt_fn>decrypt_address
    cdef Py_ssize_t size = PyBytes_GET_SIZE(body)
    cdef uint8_t nonce[NONCE_SIZE]
    cdef int failed
    _check_key(key)
    if PyBytes_GET_SIZE(prefix) != PREFIX_SIZE:
        raise ValueError(f"a length prefix is {PREFIX_SIZE} bytes")
    if size < TAG_SIZE:
        return None
    cdef bytes plaintext = PyBytes_FromStringAndSize(NULL, size - TAG_SIZE)
    cdef uint8_t *out = <uint8_t *>PyBytes_AS_STRING(plaintext)
    cdef const uint8_t *sealed = <const uint8_t *>PyBytes_AS_STRING(body)
    cdef const uint8_t *ad = <const uint8_t *>PyBytes_AS_STRING(prefix)
    cdef const uint8_t *k = <const uint8_t *>PyBytes_AS_STRING(key)
    _nonce(nonce, counter)
    if size >= UNLOCKED_FROM:
        with nogil:
            failed = decrypt(out, NULL, NULL, sealed, size, ad, PREFIX_SIZE, nonce, k)
    else:
        failed = decrypt(out, NULL, NULL, sealed, size, ad, PREFIX_SIZE, nonce, k)
    return None if failed else plaintext
