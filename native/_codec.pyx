# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""node._codec: the canonical msgpack encoder of node.codec, in C.

`encode(value)` gives exactly the bytes of node.codec's Python encoder for values made
of the exact built-in types it accepts as they are: None, bool, int within msgpack's
range, str, bytes, list, tuple (an array) and dict with str keys (sorted by their
UTF-8 bytes), nested as deep as node.codec.MAX_DEPTH allows. For anything else (a
subclass, a float, a key that is not a str, an int out of range, a str that is not
valid UTF-8, nesting too deep) it returns None without saying why, and node.codec
runs its Python encoder on the whole value: that one encodes subclasses and raises
the documented errors, so there is one definition of both. (It returns None too if
its buffer cannot grow.)

The walk touches only C-level views of the objects (borrowed references, cached
UTF-8, no Python calls), writes into one growable buffer, and copies it into the
result once.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport PyObject
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memcmp, memcpy

cdef extern from "Python.h":
    ctypedef struct PyTypeObject:
        pass
    PyTypeObject PyLong_Type
    PyTypeObject PyUnicode_Type
    PyTypeObject PyBytes_Type
    PyTypeObject PyList_Type
    PyTypeObject PyTuple_Type
    PyTypeObject PyDict_Type
    PyTypeObject PyBool_Type
    PyObject *Py_None
    PyObject *Py_True
    PyTypeObject *Py_TYPE(PyObject *o)
    Py_ssize_t Py_SIZE(PyObject *o)
    PyObject *PyList_GET_ITEM(PyObject *o, Py_ssize_t i)
    PyObject *PyTuple_GET_ITEM(PyObject *o, Py_ssize_t i)
    Py_ssize_t PyDict_GET_SIZE(PyObject *o)
    int PyDict_Next(PyObject *o, Py_ssize_t *pos, PyObject **key, PyObject **value)
    const char *PyUnicode_AsUTF8AndSize(PyObject *o, Py_ssize_t *size)
    char *PyBytes_AS_STRING(PyObject *o)
    Py_ssize_t PyBytes_GET_SIZE(PyObject *o)
    long long PyLong_AsLongLongAndOverflow(PyObject *o, int *overflow)
    unsigned long long PyLong_AsUnsignedLongLong(PyObject *o)
    PyObject *PyErr_Occurred()
    void PyErr_Clear()

# The nesting limit of node.codec (which uses this module only while the two agree):
# the root is at depth 0, and a non-empty array or map may not sit at this depth.
cdef enum:
    _MAX_DEPTH = 16
MAX_DEPTH = _MAX_DEPTH

# msgpack's length limit for str, bin, array and map.
cdef Py_ssize_t _ITEM_LIMIT = 0xFFFFFFFF

# Outcomes of the walk: the value is written, or it is not plain (the Python encoder
# decides), or the buffer could not grow.
cdef enum:
    OK = 0
    NOT_PLAIN = -1
    NO_MEMORY = -2

# Buffers and key tables start on the stack and move to the heap only when they grow.
cdef enum:
    INLINE_BYTES = 512
    INLINE_ENTRIES = 32

ctypedef struct Buffer:
    uint8_t *data
    size_t length
    size_t capacity
    uint8_t *inline_data


ctypedef struct Entry:
    uint64_t prefix                 # the key's first 8 bytes, big-endian, zero-padded
    const char *key
    size_t key_length
    PyObject *value


cdef int _grow(Buffer *buf, size_t extra) noexcept:
    cdef size_t need = buf.length + extra
    cdef size_t capacity = buf.capacity * 2
    cdef uint8_t *data
    if need < extra:                              # size_t wrapped around
        return NO_MEMORY
    if capacity < need:
        capacity = need
    if buf.data == buf.inline_data:
        data = <uint8_t *>PyMem_Malloc(capacity)
        if data != NULL:
            memcpy(data, buf.data, buf.length)
    else:
        data = <uint8_t *>PyMem_Realloc(buf.data, capacity)
    if data == NULL:
        return NO_MEMORY
    buf.data = data
    buf.capacity = capacity
    return OK


cdef inline int _reserve(Buffer *buf, size_t extra) noexcept:
    if buf.capacity - buf.length >= extra:
        return OK
    return _grow(buf, extra)


cdef inline uint8_t *_put1(uint8_t *p, uint8_t b) noexcept:
    p[0] = b
    return p + 1


cdef inline uint8_t *_put_be(uint8_t *p, uint8_t tag, uint64_t v, int size) noexcept:
    """`tag` then the low `size` bytes of `v`, big-endian (msgpack's byte order)."""
    cdef int i
    p[0] = tag
    for i in range(size):
        p[1 + i] = <uint8_t>(v >> (8 * (size - 1 - i)))
    return p + 1 + size


cdef int _header(Buffer *buf, size_t n, uint8_t fix, size_t fix_limit,
                 uint8_t tag8, uint8_t tag16, uint8_t tag32) noexcept:
    """The smallest header for a length `n`: the fixed form below fix_limit (0 where
    there is none), then the 8-bit form (tag8 0 where there is none), 16 and 32-bit."""
    if _reserve(buf, 5) != OK:
        return NO_MEMORY
    cdef uint8_t *p = buf.data + buf.length
    if n < fix_limit:
        p = _put1(p, fix | <uint8_t>n)
    elif tag8 and n < 0x100:
        p[0] = tag8
        p[1] = <uint8_t>n
        p += 2
    elif n < 0x10000:
        p = _put_be(p, tag16, <uint64_t>n, 2)
    else:
        p = _put_be(p, tag32, <uint64_t>n, 4)
    buf.length = p - buf.data
    return OK


cdef int _raw(Buffer *buf, const char *data, size_t n, uint8_t fix, size_t fix_limit,
              uint8_t tag8, uint8_t tag16, uint8_t tag32) noexcept:
    if _reserve(buf, n + 5) != OK or _header(buf, n, fix, fix_limit, tag8, tag16, tag32) != OK:
        return NO_MEMORY
    memcpy(buf.data + buf.length, data, n)
    buf.length += n
    return OK


cdef int _int(Buffer *buf, PyObject *value) noexcept:
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long u = 0
    cdef uint8_t *p
    if overflow < 0:
        return NOT_PLAIN
    if overflow > 0:
        u = PyLong_AsUnsignedLongLong(value)
        if u == <unsigned long long>-1 and PyErr_Occurred() != NULL:
            PyErr_Clear()
            return NOT_PLAIN
    elif v == -1 and PyErr_Occurred() != NULL:  # not reached for an exact int
        PyErr_Clear()
        return NOT_PLAIN
    elif v >= 0:
        u = <unsigned long long>v
    if _reserve(buf, 9) != OK:
        return NO_MEMORY
    p = buf.data + buf.length
    if overflow > 0 or v >= 0:
        if u < 0x80:
            p = _put1(p, <uint8_t>u)                          # positive fixint
        elif u < 0x100:
            p[0] = 0xcc
            p[1] = <uint8_t>u
            p += 2
        elif u < 0x10000:
            p = _put_be(p, 0xcd, <uint64_t>u, 2)
        elif u < 0x100000000:
            p = _put_be(p, 0xce, <uint64_t>u, 4)
        else:
            p = _put_be(p, 0xcf, <uint64_t>u, 8)
    elif v >= -32:
        p = _put1(p, <uint8_t>v)                              # negative fixint
    elif v >= -0x80:
        p[0] = 0xd0
        p[1] = <uint8_t>v
        p += 2
    elif v >= -0x8000:
        p = _put_be(p, 0xd1, <uint64_t>v, 2)
    elif v >= -0x80000000:
        p = _put_be(p, 0xd2, <uint64_t>v, 4)
    else:
        p = _put_be(p, 0xd3, <uint64_t>v, 8)
    buf.length = p - buf.data
    return OK


cdef inline uint64_t _prefix(const char *key, size_t n) noexcept:
    cdef const uint8_t *p = <const uint8_t *>key
    cdef uint64_t prefix = 0
    cdef size_t i
    if n >= 8:
        return ((<uint64_t>p[0] << 56) | (<uint64_t>p[1] << 48) | (<uint64_t>p[2] << 40)
                | (<uint64_t>p[3] << 32) | (<uint64_t>p[4] << 24) | (<uint64_t>p[5] << 16)
                | (<uint64_t>p[6] << 8) | <uint64_t>p[7])
    for i in range(8):
        prefix <<= 8
        if i < n:
            prefix |= p[i]
    return prefix


cdef inline int _compare(const Entry *x, const Entry *y) noexcept nogil:
    """Bytewise order of two UTF-8 keys: the code point order of the strs they encode.
    Prefixes that differ decide it (zero padding sorts a shorter key first); equal
    ones leave it to the whole keys."""
    cdef size_t n
    cdef int c
    if x.prefix != y.prefix:
        return 1 if x.prefix > y.prefix else -1
    n = x.key_length if x.key_length < y.key_length else y.key_length
    c = memcmp(x.key, y.key, n)
    if c != 0:
        return c
    return (x.key_length > y.key_length) - (x.key_length < y.key_length)


cdef int _compare_pointed(const void *a, const void *b) noexcept nogil:
    return _compare((<const Entry **>a)[0], (<const Entry **>b)[0])


cdef void _sort(Entry **order, Py_ssize_t n) noexcept:
    """Pointers to the entries in the bytewise order of their keys (which are
    distinct). Insertion sort for the small maps of tx bodies and records; qsort for
    larger ones, unless they are in order already (as every decoded map is)."""
    cdef Py_ssize_t i, j
    cdef Entry *entry
    if n > INLINE_ENTRIES:
        i = 1
        while i < n and _compare(order[i - 1], order[i]) < 0:
            i += 1
        if i < n:
            qsort(order, <size_t>n, sizeof(Entry *), _compare_pointed)
        return
    for i in range(1, n):
        entry = order[i]
        j = i
        while j > 0 and _compare(order[j - 1], entry) > 0:
            order[j] = order[j - 1]
            j -= 1
        order[j] = entry


cdef int _map(Buffer *buf, PyObject *value, int depth) noexcept:
    cdef Py_ssize_t n = PyDict_GET_SIZE(value), pos = 0, i = 0, length
    cdef Entry inline_entries[INLINE_ENTRIES]
    cdef Entry *inline_order[INLINE_ENTRIES]
    cdef Entry *entries = inline_entries
    cdef Entry **order = inline_order
    cdef PyObject *key
    cdef PyObject *item
    cdef const char *utf8
    cdef int status = OK
    if n == 0:
        return _header(buf, 0, 0x80, 16, 0, 0xde, 0xdf)
    if depth >= _MAX_DEPTH or n > _ITEM_LIMIT:
        return NOT_PLAIN
    if n > INLINE_ENTRIES:
        # One block: the entries, then the pointers that are sorted.
        entries = <Entry *>PyMem_Malloc(n * (sizeof(Entry) + sizeof(Entry *)))
        if entries == NULL:
            return NO_MEMORY
        order = <Entry **>(entries + n)
    while PyDict_Next(value, &pos, &key, &item):
        if Py_TYPE(key) != &PyUnicode_Type:
            status = NOT_PLAIN
            break
        utf8 = PyUnicode_AsUTF8AndSize(key, &length)
        if utf8 == NULL:                          # a lone surrogate
            PyErr_Clear()
            status = NOT_PLAIN
            break
        if length > _ITEM_LIMIT:
            status = NOT_PLAIN
            break
        entries[i].prefix = _prefix(utf8, <size_t>length)
        entries[i].key = utf8
        entries[i].key_length = <size_t>length
        entries[i].value = item
        order[i] = &entries[i]
        i += 1
    if status == OK:
        _sort(order, n)
        status = _header(buf, <size_t>n, 0x80, 16, 0, 0xde, 0xdf)
        i = 0
        while status == OK and i < n:
            status = _raw(buf, order[i].key, order[i].key_length, 0xa0, 32, 0xd9, 0xda, 0xdb)
            if status == OK:
                status = _value(buf, order[i].value, depth + 1)
            i += 1
    if entries != inline_entries:
        PyMem_Free(entries)
    return status


cdef int _value(Buffer *buf, PyObject *value, int depth) noexcept:
    cdef PyTypeObject *kind = Py_TYPE(value)
    cdef Py_ssize_t n, i
    cdef const char *utf8
    cdef int status
    if kind == &PyUnicode_Type:
        utf8 = PyUnicode_AsUTF8AndSize(value, &n)
        if utf8 == NULL:                          # a lone surrogate
            PyErr_Clear()
            return NOT_PLAIN
        if n > _ITEM_LIMIT:
            return NOT_PLAIN
        return _raw(buf, utf8, <size_t>n, 0xa0, 32, 0xd9, 0xda, 0xdb)
    if kind == &PyLong_Type:
        return _int(buf, value)
    if kind == &PyBytes_Type:
        n = PyBytes_GET_SIZE(value)
        if n > _ITEM_LIMIT:
            return NOT_PLAIN
        return _raw(buf, PyBytes_AS_STRING(value), <size_t>n, 0, 0, 0xc4, 0xc5, 0xc6)
    if value == Py_None:
        if _reserve(buf, 1) != OK:
            return NO_MEMORY
        _put1(buf.data + buf.length, 0xc0)
        buf.length += 1
        return OK
    if kind == &PyBool_Type:
        if _reserve(buf, 1) != OK:
            return NO_MEMORY
        _put1(buf.data + buf.length, 0xc3 if value == Py_True else 0xc2)
        buf.length += 1
        return OK
    if kind == &PyList_Type or kind == &PyTuple_Type:
        n = Py_SIZE(value)
        if (n and depth >= _MAX_DEPTH) or n > _ITEM_LIMIT:
            return NOT_PLAIN
        status = _header(buf, <size_t>n, 0x90, 16, 0, 0xdc, 0xdd)
        i = 0
        if kind == &PyList_Type:
            while status == OK and i < n:
                # Nothing in the walk runs Python code, so the list cannot change.
                status = _value(buf, PyList_GET_ITEM(value, i), depth + 1)
                i += 1
        else:
            while status == OK and i < n:
                status = _value(buf, PyTuple_GET_ITEM(value, i), depth + 1)
                i += 1
        return status
    if kind == &PyDict_Type:
        return _map(buf, value, depth)
    return NOT_PLAIN


def encode(value):
    """The canonical msgpack bytes of `value`, or None if it is not made only of the
    plain values this encoder takes (the caller then encodes it the general way)."""
    cdef uint8_t inline_data[INLINE_BYTES]
    cdef Buffer buf
    cdef int status
    buf.data = inline_data
    buf.inline_data = inline_data
    buf.length = 0
    buf.capacity = INLINE_BYTES
    status = _value(&buf, <PyObject *>value, 0)
    try:
        if status != OK:
            return None
        return PyBytes_FromStringAndSize(<char *>buf.data, <Py_ssize_t>buf.length)
    finally:
        if buf.data != inline_data:
            PyMem_Free(buf.data)


cdef enum:
    _PUBLIC_KEY_SIZE = 32
    _SIGNATURE_SIZE = 64
    _CHAIN_ID_MAX = 64
    _KIND_MAX = 32

cdef object _NONCE_LOW = -(1 << 63)
cdef object _NONCE_HIGH = 1 << 63


cdef bint _is_kind(str kind):
    """`kind` is a lower-case event name: a-z, then up to 31 of a-z and _."""
    cdef Py_ssize_t n = len(kind), i
    cdef Py_UCS4 c
    if not 0 < n <= _KIND_MAX:
        return False
    for i in range(n):
        c = kind[i]
        if not (u'a' <= c <= u'z' or (c == u'_' and i > 0)):
            return False
    return True


def tx_fields(unpack, bytes data not None):
    """The attributes of node.types.tx.Tx decoded from `data` (its six fields, and the
    `encoded` and `signing_bytes` it caches) if `data` is the canonical encoding of a
    signed tx whose fields pass that class's checks, else None, without saying why: the
    caller then decodes it the general way, which accepts or refuses it with the
    reason. `unpack` is msgpack.unpackb, with its defaults as node.codec.decode uses
    them; an ext value it returns is not plain, so the canonical check declines it."""
    try:
        fields = unpack(data)
    except Exception:
        return None
    if type(fields) is not list or len(<list>fields) != 6:
        return None
    chain_id, kind, body, signer, nonce, signature = <list>fields
    if (type(chain_id) is not str or not 0 < len(<str>chain_id) <= _CHAIN_ID_MAX
            or type(kind) is not str or not _is_kind(<str>kind)
            or type(body) is not dict
            or type(signer) is not bytes or len(<bytes>signer) != _PUBLIC_KEY_SIZE
            or type(nonce) is not int or not _NONCE_LOW <= nonce < _NONCE_HIGH
            or type(signature) is not bytes or len(<bytes>signature) != _SIGNATURE_SIZE):
        return None
    if encode(fields) != data:
        return None
    # The signed fields are the same array of five: a fixarray header of 5 for the one
    # of 6, and the signature's bin 8 (2 bytes) and its 64 bytes left off.
    return {"chain_id": chain_id, "kind": kind, "body": body, "signer": signer,
            "nonce": nonce, "signature": signature, "encoded": data,
            "signing_bytes": b"\x95" + data[1:len(data) - 2 - _SIGNATURE_SIZE]}
