# cython: language_level=3
"""node._native: SHA-256 and RFC 6962 / RFC 9162 Merkle trees over the C core in native/.

Same names, results and errors as the pure-Python twin node.merkle._py; node.merkle
picks one of the two. The hashing runs in C (SHA-NI and AVX-512 when the CPU has
them) and releases the GIL for big inputs, so other threads keep running meanwhile.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_Check,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.list cimport PyList_CheckExact, PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject_LengthHint
from cpython.number cimport PyNumber_Index
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy


cdef extern from "sha256.h" nogil:
    ctypedef void (*ore_sha256_compress_fn)(uint32_t *state, const uint8_t *blocks, size_t nblocks)
    ctypedef struct ore_sha256_ctx:
        pass
    enum:
        ORE_SHA256_USE_SHANI
        ORE_SHA256_USE_AVX512
        ORE_SHA256_USE_ALL
    const char *ore_sha256_select(unsigned allowed)
    void ore_sha256_compress_portable(uint32_t *state, const uint8_t *blocks, size_t nblocks)
    void ore_sha256_init(ore_sha256_ctx *ctx, ore_sha256_compress_fn compress)
    void ore_sha256_update(ore_sha256_ctx *ctx, const uint8_t *data, size_t length)
    void ore_sha256_final(ore_sha256_ctx *ctx, uint8_t *out)
    void ore_sha256(const uint8_t *data, size_t length, uint8_t *out)


cdef extern from "merkle.h" nogil:
    enum:
        ORE_HASH_SIZE
        ORE_MAX_PROOF
    void ore_leaf_hash(const uint8_t *data, size_t length, uint8_t *out)
    void ore_node_hash(const uint8_t *left, const uint8_t *right, uint8_t *out)
    void ore_leaf_hashes(const uint8_t *data, const size_t *offsets, size_t n, uint8_t *out)
    ctypedef struct ore_tree_builder:
        pass
    void ore_tree_builder_init(ore_tree_builder *builder)
    void ore_tree_builder_append(ore_tree_builder *builder, uint8_t *hashes, size_t count)
    void ore_tree_builder_root(const ore_tree_builder *builder, uint8_t *out)
    size_t ore_inclusion_proof(uint8_t *hashes, size_t n, size_t index, uint8_t *proof)
    size_t ore_consistency_proof(uint8_t *hashes, size_t n, size_t m, uint8_t *proof)
    int ore_verify_inclusion(const uint8_t *leaf_hash, uint64_t index, uint64_t size,
                             const uint8_t *proof, size_t proof_len, const uint8_t *root)
    int ore_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t *old_root,
                               const uint8_t *new_root, const uint8_t *proof, size_t proof_len)


IMPLEMENTATION = "native"
#: The SHA-256 code this CPU runs: "portable", "sha-ni", "avx512" or "sha-ni+avx512"
#: (single messages use the first, the batches inside Merkle trees the second).
SHA256_BACKEND = ore_sha256_select(ORE_SHA256_USE_ALL).decode("ascii")
HASH_SIZE = ORE_HASH_SIZE
MAX_PROOF = ORE_MAX_PROOF

# Below these sizes the work is shorter than handing the GIL over and back.
cdef size_t NOGIL_BYTES = 1 << 16
cdef size_t NOGIL_LEAVES = 1 << 10
# Leaves copied, then hashed, per round trip through C: 128 KiB of 32-byte leaves.
cdef size_t LEAF_BATCH = 4096
cdef object UINT64_MAX = (1 << 64) - 1

cdef uint8_t EMPTY_ROOT_BYTES[32]
ore_sha256(NULL, 0, EMPTY_ROOT_BYTES)
EMPTY_ROOT = PyBytes_FromStringAndSize(<char *>EMPTY_ROOT_BYTES, ORE_HASH_SIZE)


def sha256(data) -> bytes:
    """SHA-256 of a bytes-like object."""
    cdef Py_buffer view
    cdef uint8_t out[32]
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        if <size_t>view.len >= NOGIL_BYTES:
            with nogil:
                ore_sha256(<const uint8_t *>view.buf, view.len, out)
        else:
            ore_sha256(<const uint8_t *>view.buf, view.len, out)
    finally:
        PyBuffer_Release(&view)
    return PyBytes_FromStringAndSize(<char *>out, ORE_HASH_SIZE)


def _sha256_portable(data) -> bytes:
    """SHA-256 through the portable compression function whatever the CPU; for tests."""
    cdef Py_buffer view
    cdef ore_sha256_ctx ctx
    cdef uint8_t out[32]
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        ore_sha256_init(&ctx, ore_sha256_compress_portable)
        ore_sha256_update(&ctx, <const uint8_t *>view.buf, view.len)
        ore_sha256_final(&ctx, out)
    finally:
        PyBuffer_Release(&view)
    return PyBytes_FromStringAndSize(<char *>out, ORE_HASH_SIZE)


def _select_sha256(bint shani=True, bint avx512=True) -> str:
    """Restricts the SHA-256 code to the allowed CPU features and names what runs.

    For tests, which use it to check every code path this CPU has; the defaults
    restore the normal choice. Not for use while other threads are hashing.
    """
    cdef unsigned allowed = 0
    if shani:
        allowed |= ORE_SHA256_USE_SHANI
    if avx512:
        allowed |= ORE_SHA256_USE_AVX512
    return ore_sha256_select(allowed).decode("ascii")


def leaf_hash(data) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data) of a bytes-like object."""
    cdef Py_buffer view
    cdef uint8_t out[32]
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        if <size_t>view.len >= NOGIL_BYTES:
            with nogil:
                ore_leaf_hash(<const uint8_t *>view.buf, view.len, out)
        else:
            ore_leaf_hash(<const uint8_t *>view.buf, view.len, out)
    finally:
        PyBuffer_Release(&view)
    return PyBytes_FromStringAndSize(<char *>out, ORE_HASH_SIZE)


def node_hash(left, right) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right) of two 32-byte hashes.

    Raises TypeError unless both are bytes, ValueError unless both are 32 bytes long.
    """
    cdef uint8_t out[32]
    _check_hash(left, "left")
    _check_hash(right, "right")
    ore_node_hash(<const uint8_t *>PyBytes_AS_STRING(left),
                  <const uint8_t *>PyBytes_AS_STRING(right), out)
    return PyBytes_FromStringAndSize(<char *>out, ORE_HASH_SIZE)


cdef _check_hash(object value, str name):
    if not PyBytes_Check(value):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    if PyBytes_GET_SIZE(value) != ORE_HASH_SIZE:
        raise ValueError(f"{name} must be {ORE_HASH_SIZE} bytes, not {PyBytes_GET_SIZE(value)}")


cdef class _LeafBatch:
    """Copies of up to LEAF_BATCH leaves back to back in one reusable C buffer.

    Copying while the GIL is held lets the C code hash without it even if other
    threads change the caller's list or buffers meanwhile, and a buffer this small
    stays in cache between being filled and being hashed.
    """
    cdef uint8_t *data
    cdef size_t *offsets  # leaf i is data[offsets[i] : offsets[i + 1]]
    cdef size_t count, data_capacity

    def __cinit__(self):
        self.offsets = <size_t *>PyMem_Malloc((LEAF_BATCH + 1) * sizeof(size_t))
        if self.offsets == NULL:
            raise MemoryError()
        self.offsets[0] = 0

    def __dealloc__(self):
        PyMem_Free(self.data)
        PyMem_Free(self.offsets)

    cdef int append(self, object leaf) except -1:
        cdef Py_buffer view
        if PyBytes_Check(leaf):
            return self._append(<const uint8_t *>PyBytes_AS_STRING(leaf), PyBytes_GET_SIZE(leaf))
        PyObject_GetBuffer(leaf, &view, PyBUF_SIMPLE)
        try:
            return self._append(<const uint8_t *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    cdef int _append(self, const uint8_t *leaf, size_t length) except -1:
        cdef size_t end = self.offsets[self.count]
        cdef size_t needed = end + length
        cdef void *grown
        if needed > self.data_capacity:
            needed = max(needed, 2 * self.data_capacity, LEAF_BATCH * <size_t>ORE_HASH_SIZE)
            grown = PyMem_Realloc(self.data, needed)
            if grown == NULL:
                raise MemoryError()
            self.data = <uint8_t *>grown
            self.data_capacity = needed
        if length:
            memcpy(self.data + end, leaf, length)
        self.count += 1
        self.offsets[self.count] = end + length
        return 0

    cdef void clear(self):
        self.count = 0


cdef class _LeafHashes:
    """The leaf hashes of a snapshot of leaves, in one C array of size * 32 bytes."""
    cdef uint8_t *hashes
    cdef size_t size, capacity

    def __cinit__(self, leaves):
        cdef _LeafBatch batch = _LeafBatch()
        self._reserve(PyObject_LengthHint(leaves, 0))
        for leaf in leaves:
            batch.append(leaf)
            if batch.count == LEAF_BATCH:
                self._hash(batch)
        self._hash(batch)

    def __dealloc__(self):
        PyMem_Free(self.hashes)

    cdef int _reserve(self, size_t needed) except -1:
        cdef void *grown
        if needed <= self.capacity and self.hashes != NULL:
            return 0
        needed = max(needed, 2 * self.capacity, <size_t>1)
        grown = PyMem_Realloc(self.hashes, needed * ORE_HASH_SIZE)
        if grown == NULL:
            raise MemoryError()
        self.hashes = <uint8_t *>grown
        self.capacity = needed
        return 0

    cdef int _hash(self, _LeafBatch batch) except -1:
        self._reserve(self.size + batch.count)
        cdef uint8_t *out = self.hashes + ORE_HASH_SIZE * self.size
        if batch.count >= NOGIL_LEAVES or batch.offsets[batch.count] >= NOGIL_BYTES:
            with nogil:
                ore_leaf_hashes(batch.data, batch.offsets, batch.count, out)
        else:
            ore_leaf_hashes(batch.data, batch.offsets, batch.count, out)
        self.size += batch.count
        batch.clear()
        return 0


cdef list _hash_list(const uint8_t *hashes, size_t count):
    return [PyBytes_FromStringAndSize(<char *>hashes + ORE_HASH_SIZE * i, ORE_HASH_SIZE)
            for i in range(count)]


def merkle_root(leaves) -> bytes:
    """RFC 6962 Merkle Tree Hash of an iterable of bytes-like leaves (SHA-256("") if none)."""
    cdef _LeafBatch batch = _LeafBatch()
    cdef ore_tree_builder builder
    cdef uint8_t out[32]
    # One batch of leaf hashes at a time, folded into the builder: memory stays
    # small and in cache however many leaves there are.
    cdef uint8_t *hashes = <uint8_t *>PyMem_Malloc(LEAF_BATCH * ORE_HASH_SIZE)
    if hashes == NULL:
        raise MemoryError()
    try:
        ore_tree_builder_init(&builder)
        for leaf in leaves:
            batch.append(leaf)
            if batch.count == LEAF_BATCH:
                _append_batch(&builder, batch, hashes)
        _append_batch(&builder, batch, hashes)
        ore_tree_builder_root(&builder, out)
    finally:
        PyMem_Free(hashes)
    return PyBytes_FromStringAndSize(<char *>out, ORE_HASH_SIZE)


cdef void _append_batch(ore_tree_builder *builder, _LeafBatch batch, uint8_t *hashes):
    """Hashes the batched leaves into hashes, appends them to builder, and empties batch."""
    cdef size_t count = batch.count
    if count >= NOGIL_LEAVES or batch.offsets[count] >= NOGIL_BYTES:
        with nogil:
            ore_leaf_hashes(batch.data, batch.offsets, count, hashes)
            ore_tree_builder_append(builder, hashes, count)
    else:
        ore_leaf_hashes(batch.data, batch.offsets, count, hashes)
        ore_tree_builder_append(builder, hashes, count)
    batch.clear()


def inclusion_proof(leaves, index) -> list:
    """RFC 9162 inclusion proof (audit path) for leaves[index], leaf side first.

    Raises TypeError for a non-integer index, IndexError unless 0 <= index < len(leaves).
    """
    cdef uint8_t proof[ORE_MAX_PROOF * 32]
    cdef size_t count, at
    index = PyNumber_Index(index)
    size = len(leaves)
    if not 0 <= index < size:
        raise IndexError(f"leaf index {index} outside a tree of {size} leaves")
    cdef _LeafHashes tree = _LeafHashes(leaves)
    at = index
    if tree.size >= NOGIL_LEAVES:
        with nogil:
            count = ore_inclusion_proof(tree.hashes, tree.size, at, proof)
    else:
        count = ore_inclusion_proof(tree.hashes, tree.size, at, proof)
    return _hash_list(proof, count)


def consistency_proof(leaves, old_size) -> list:
    """RFC 9162 consistency proof that the first old_size leaves are a prefix of leaves.

    Empty when old_size is 0 or len(leaves) (docs/merkle.md). Raises TypeError for a
    non-integer old_size, ValueError unless 0 <= old_size <= len(leaves).
    """
    cdef uint8_t proof[ORE_MAX_PROOF * 32]
    cdef size_t count, m
    old_size = PyNumber_Index(old_size)
    size = len(leaves)
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} outside 0..{size}")
    if old_size == 0 or old_size == size:
        return []
    cdef _LeafHashes tree = _LeafHashes(leaves)
    m = old_size
    if tree.size >= NOGIL_LEAVES:
        with nogil:
            count = ore_consistency_proof(tree.hashes, tree.size, m, proof)
    else:
        count = ore_consistency_proof(tree.hashes, tree.size, m, proof)
    return _hash_list(proof, count)


# The verifiers take exact built-in types only: a subclass could report a length
# or elements other than the ones the C code reads.

cdef inline bint _is_size(object value):
    return type(value) is int and 0 <= value <= UINT64_MAX


cdef inline bint _is_hash(object value):
    return PyBytes_CheckExact(value) and PyBytes_GET_SIZE(value) == ORE_HASH_SIZE


cdef Py_ssize_t _copy_proof(object proof, uint8_t *out):
    """Copies a well-formed proof (a list or tuple of at most MAX_PROOF 32-byte bytes)
    into out and returns its length; -1 for anything else."""
    cdef Py_ssize_t n, i
    cdef bint is_list = PyList_CheckExact(proof)
    if is_list:
        n = PyList_GET_SIZE(proof)
    elif PyTuple_CheckExact(proof):
        n = PyTuple_GET_SIZE(proof)
    else:
        return -1
    if n > ORE_MAX_PROOF:
        return -1
    # Nothing below runs Python code, so the list cannot change under the loop.
    for i in range(n):
        item = <object>(PyList_GET_ITEM(proof, i) if is_list else PyTuple_GET_ITEM(proof, i))
        if not _is_hash(item):
            return -1
        memcpy(out + ORE_HASH_SIZE * i, PyBytes_AS_STRING(item), ORE_HASH_SIZE)
    return n


cdef bint _try_leaf_hash(object leaf, uint8_t *out):
    """Leaf hash of a bytes-like leaf into out; False if leaf is not bytes-like."""
    cdef Py_buffer view
    try:
        PyObject_GetBuffer(leaf, &view, PyBUF_SIMPLE)
    except (TypeError, BufferError):
        return False
    try:
        ore_leaf_hash(<const uint8_t *>view.buf, view.len, out)
    finally:
        PyBuffer_Release(&view)
    return True


def verify_inclusion(leaf, index, size, proof, root) -> bool:
    """RFC 9162 section 2.1.3.2: True iff proof shows leaf at index in the tree of size
    leaves whose root is root. False, never an exception, for any malformed input."""
    cdef uint8_t path[ORE_MAX_PROOF * 32]
    cdef uint8_t digest[32]
    if not (_is_size(index) and _is_size(size) and index < size and _is_hash(root)):
        return False
    cdef Py_ssize_t n = _copy_proof(proof, path)
    if n < 0 or not _try_leaf_hash(leaf, digest):
        return False
    return ore_verify_inclusion(digest, index, size, path, n,
                                <const uint8_t *>PyBytes_AS_STRING(root)) == 1


def verify_consistency(old_size, new_size, old_root, new_root, proof) -> bool:
    """RFC 9162 section 2.1.4.2: True iff proof shows the tree of old_size leaves with
    old_root is a prefix of the tree of new_size leaves with new_root. Sizes 0 and
    old_size == new_size follow docs/merkle.md. False, never an exception, for any
    malformed input."""
    cdef uint8_t path[ORE_MAX_PROOF * 32]
    if not (_is_size(old_size) and _is_size(new_size)
            and _is_hash(old_root) and _is_hash(new_root)):
        return False
    cdef Py_ssize_t n = _copy_proof(proof, path)
    if n < 0:
        return False
    return ore_verify_consistency(old_size, new_size,
                                  <const uint8_t *>PyBytes_AS_STRING(old_root),
                                  <const uint8_t *>PyBytes_AS_STRING(new_root), path, n) == 1
