// libdgen for C++17: a header-only, RAII, move-only wrapper over the C ABI
// in dgen.h. Errors throw dgen::Error, which carries the C status and the
// library's message.
//
//   dgen::Generator gen(dgen::Config().size(1 << 30).dedup_ratio(2.5).compress_ratio(3.0).seed(42));
//   std::vector<uint8_t> block(1 << 20);
//   while (gen.fill(block) > 0) { /* write block */ }
//
// Thread safety is that of the C handle: every member function may run from
// many threads at once on one Generator, except move and destruction, which
// need it to themselves. fill and read take the next bytes of the stream with
// one atomic step, so threads that share a stream get disjoint consecutive
// ranges that together are the stream; seek and rewind move the position
// atomically (they and fill are not const, as they move it). A Generator
// made before fork() works in the child, with the same bytes.
//
// Seeds: Config().seed(v) fixes the seed (any value, 0 included); without it
// each Generator draws a fresh seed, which seed() reads back. A C config with
// a non-zero seed but has_seed false is refused (dgen::Error with
// DGEN_STATUS_INVALID_CONFIG), never replaced by a random seed.
#ifndef DGEN_HPP
#define DGEN_HPP

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dgen.h"

namespace dgen {

/// A failed libdgen call: the C status (status()) and the library's message
/// naming the field or argument and its value (what()).
class Error : public std::runtime_error {
public:
    Error(dgen_status status, const std::string &message)
        : std::runtime_error(message.empty() ? std::string(dgen_status_str(status)) : message),
          status_(status) {}

    /// The C status of the failed call; never DGEN_STATUS_OK.
    dgen_status status() const noexcept { return status_; }

private:
    dgen_status status_;
};

namespace detail {

/// Throws the error of the call that just returned `status` on this thread.
inline void check(dgen_status status) {
    if (status != DGEN_STATUS_OK) {
        // Copy the message now: the next libdgen call on this thread replaces it.
        throw Error(status, std::string(dgen_last_error()));
    }
}

/// True for contiguous containers of trivially copyable elements: anything
/// with data() and size() (std::vector, std::array, std::string, std::span).
template <class C, class = void>
struct is_byte_container : std::false_type {};

template <class C>
struct is_byte_container<C, std::void_t<decltype(std::data(std::declval<C &>())),
                                         decltype(std::size(std::declval<C &>()))>>
    : std::bool_constant<std::is_trivially_copyable_v<
          std::remove_pointer_t<decltype(std::data(std::declval<C &>()))>>> {};

template <class C>
constexpr bool is_byte_container_v = is_byte_container<C>::value;

template <class C>
std::size_t byte_size(C &c) {
    return std::size(c) * sizeof(*std::data(c));
}

} // namespace detail

/// The library version, e.g. "0.1.0".
inline std::string version() { return dgen_version(); }

/// A dgen_config with a fluent setter per field, starting from the
/// library's defaults (dgen_config_init).
class Config {
public:
    Config() noexcept { dgen_config_init(&c_); }
    /// Starts from an existing C config.
    explicit Config(const dgen_config &c) noexcept : c_(c) {}

    /// Logical size in bytes; 0 means endless.
    Config &size(uint64_t v) noexcept { c_.size = v; return *this; }
    /// Total / distinct dedup units, 1.0 to 1024.0.
    Config &dedup_ratio(double v) noexcept { c_.dedup_ratio = v; return *this; }
    /// Input / compressed bytes, 1.0 to 32.0.
    Config &compress_ratio(double v) noexcept { c_.compress_ratio = v; return *this; }
    /// Dedup unit in bytes: a multiple of 4096 up to 64 MiB.
    Config &dedup_unit(uint32_t v) noexcept { c_.dedup_unit = v; return *this; }
    /// Fixes the seed (any value, 0 included), so the stream repeats: sets
    /// both `seed` and `has_seed` of the C struct.
    Config &seed(uint64_t v) noexcept { c_.seed = v; c_.has_seed = true; return *this; }
    /// Draws a fresh seed per generator (the default), which
    /// Generator::seed() reads back.
    Config &random_seed() noexcept { c_.seed = 0; c_.has_seed = false; return *this; }
    /// Worker threads for large fills; 0 means every CPU the process may
    /// use. Up to 4096 is accepted and capped at those CPUs
    /// (Generator::threads() gives the number in use).
    Config &threads(uint32_t v) noexcept { c_.threads = v; return *this; }
    /// How workers are placed: DGEN_NUMA_MODE_AUTO, _OFF or _FORCE.
    Config &numa_mode(dgen_numa_mode v) noexcept { c_.numa_mode = static_cast<uint32_t>(v); return *this; }
    /// Keeps the workers on this NUMA node; -1 for none.
    Config &numa_node(int32_t v) noexcept { c_.numa_node = v; return *this; }
    /// The compressor compress_ratio is calibrated for: DGEN_COMPRESSOR_AUTO
    /// (the default: the geometric mean of zstd-1 and lz4 hits the target) or
    /// one by name, e.g. DGEN_COMPRESSOR_ZSTD, which then hits it tightly.
    Config &compressor(dgen_compressor v) noexcept { c_.compressor = static_cast<uint32_t>(v); return *this; }

    /// The C struct, for dgen_create or for reading fields back.
    const dgen_config &c_config() const noexcept { return c_; }
    operator const dgen_config &() const noexcept { return c_; }

private:
    dgen_config c_;
};

/// Memory aligned for O_DIRECT I/O (dgen_alloc_aligned): `size()` bytes at an
/// address that is a multiple of the alignment (4096 by default). Move-only;
/// released by the destructor. The bytes are not cleared: fill them with a
/// Generator (fill_at, fill) or dgen::generate. It is a contiguous container,
/// so every container overload of Generator takes it.
class AlignedBuffer {
public:
    /// Allocates `len` bytes aligned to `alignment` (a power of two; 0
    /// means 4096). Throws dgen::Error for a bad alignment or when memory
    /// runs out.
    explicit AlignedBuffer(std::size_t len, std::size_t alignment = 4096) : len_(len) {
        void *p = nullptr;
        detail::check(dgen_alloc_aligned(len, alignment, &p));
        data_ = static_cast<uint8_t *>(p);
    }
    AlignedBuffer(const AlignedBuffer &) = delete;
    AlignedBuffer &operator=(const AlignedBuffer &) = delete;
    AlignedBuffer(AlignedBuffer &&other) noexcept
        : data_(std::exchange(other.data_, nullptr)), len_(std::exchange(other.len_, 0)) {}
    AlignedBuffer &operator=(AlignedBuffer &&other) noexcept {
        if (this != &other) {
            dgen_free_aligned(data_);
            data_ = std::exchange(other.data_, nullptr);
            len_ = std::exchange(other.len_, 0);
        }
        return *this;
    }
    ~AlignedBuffer() { dgen_free_aligned(data_); }

    /// The first byte (null once moved from).
    uint8_t *data() noexcept { return data_; }
    const uint8_t *data() const noexcept { return data_; }
    /// The length in bytes (0 once moved from).
    std::size_t size() const noexcept { return len_; }
    uint8_t *begin() noexcept { return data_; }
    uint8_t *end() noexcept { return data_ + len_; }
    const uint8_t *begin() const noexcept { return data_; }
    const uint8_t *end() const noexcept { return data_ + len_; }
    uint8_t &operator[](std::size_t i) noexcept { return data_[i]; }
    const uint8_t &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    uint8_t *data_ = nullptr;
    std::size_t len_ = 0;
};

/// One-shot generation: fills `buf` with the bytes [0, len) of the stream
/// `cfg` describes (dgen_generate). `len` may not pass a sized stream's end.
/// Throws dgen::Error.
inline void generate(const Config &cfg, void *buf, std::size_t len) {
    detail::check(dgen_generate(&cfg.c_config(), buf, len));
}

/// generate into a contiguous container (its size in bytes).
template <class C, std::enable_if_t<detail::is_byte_container_v<C>, int> = 0>
void generate(const Config &cfg, C &&container) {
    generate(cfg, static_cast<void *>(std::data(container)), detail::byte_size(container));
}

/// The whole of a sized stream, `cfg`'s size in bytes. Throws dgen::Error
/// (DGEN_STATUS_INVALID_CONFIG) naming `size` for an endless stream (size 0)
/// or one larger than a vector can hold, and for every other bad field as
/// Generator does.
inline std::vector<uint8_t> generate(const Config &cfg) {
    const uint64_t size = cfg.c_config().size;
    if (size == 0 || size > static_cast<uint64_t>(std::vector<uint8_t>().max_size())) {
        // size is the first field, so it is named before any other bad one.
        throw Error(DGEN_STATUS_INVALID_CONFIG,
                    "size must be from 1 to the largest vector for dgen::generate (0 is an endless stream), got " +
                        std::to_string(size));
    }
    std::vector<uint8_t> out(static_cast<std::size_t>(size));
    generate(cfg, out.data(), out.size());
    return out;
}

/// This machine's NUMA nodes and CPUs, and where a generator built from `cfg`
/// would run its workers, as JSON text (see dgen_topology). Throws dgen::Error.
inline std::string topology(const Config &cfg = Config()) {
    size_t needed = 0;
    dgen_status st = dgen_topology(&cfg.c_config(), nullptr, 0, &needed);
    if (st != DGEN_STATUS_OK && st != DGEN_STATUS_OUT_OF_RANGE) detail::check(st);
    std::string text(needed, '\0');
    detail::check(dgen_topology(&cfg.c_config(), &text[0], text.size(), &needed));
    text.resize(needed - 1);
    return text;
}

/// Owns one dgen_generator: created in the constructor, freed in the
/// destructor. Move-only; a moved-from Generator holds no handle, and its
/// calls throw dgen::Error with DGEN_STATUS_NULL_POINTER.
class Generator {
public:
    /// Validates `config` and creates the generator; throws dgen::Error
    /// naming the bad field and value.
    explicit Generator(const dgen_config &config) { detail::check(dgen_create(&config, &gen_)); }
    /// As above, from the builder.
    explicit Generator(const Config &config) : Generator(config.c_config()) {}

    Generator(const Generator &) = delete;
    Generator &operator=(const Generator &) = delete;
    Generator(Generator &&other) noexcept : gen_(std::exchange(other.gen_, nullptr)) {}
    Generator &operator=(Generator &&other) noexcept {
        if (this != &other) {
            dgen_free(gen_);
            gen_ = std::exchange(other.gen_, nullptr);
        }
        return *this;
    }
    ~Generator() { dgen_free(gen_); }

    /// Continues the stream into `buf`; returns the bytes written: `len`,
    /// less for the last fill of a sized stream, 0 once it is complete.
    /// Thread-safe: concurrent fills each get their own consecutive range.
    std::size_t fill(void *buf, std::size_t len) {
        std::size_t written = 0;
        detail::check(dgen_fill(gen_, buf, len, &written));
        return written;
    }

    /// Continues the stream into a contiguous container; returns the bytes
    /// written (a count of bytes, not of elements).
    template <class C, std::enable_if_t<detail::is_byte_container_v<C>, int> = 0>
    std::size_t fill(C &&container) {
        return fill(static_cast<void *>(std::data(container)), detail::byte_size(container));
    }

    /// The next `n` bytes of the stream; shorter at the end of a sized
    /// stream, empty once it is complete.
    std::vector<uint8_t> read(std::size_t n) {
        std::vector<uint8_t> out(n);
        out.resize(fill(out.data(), out.size()));
        return out;
    }

    /// Writes the stream's bytes [offset, offset + len) into `buf`; the
    /// position does not move. Thread-safe.
    void fill_at(uint64_t offset, void *buf, std::size_t len) const {
        detail::check(dgen_fill_at(gen_, offset, buf, len));
    }

    /// fill_at into a contiguous container.
    template <class C, std::enable_if_t<detail::is_byte_container_v<C>, int> = 0>
    void fill_at(uint64_t offset, C &&container) const {
        fill_at(offset, static_cast<void *>(std::data(container)), detail::byte_size(container));
    }

    /// The stream's bytes [offset, offset + n).
    std::vector<uint8_t> read_at(uint64_t offset, std::size_t n) const {
        std::vector<uint8_t> out(n);
        fill_at(offset, out.data(), out.size());
        return out;
    }

    /// Checks `buf` against the stream at `offset`. Returns true when every
    /// byte matches; on a mismatch returns false and stores the stream
    /// offset of the first wrong byte in `*mismatch_offset` when it is not
    /// null. A mismatch is an expected outcome of verification, so it does
    /// not throw; bad arguments and ranges throw dgen::Error. Thread-safe.
    bool verify_at(uint64_t offset, const void *buf, std::size_t len,
                   uint64_t *mismatch_offset = nullptr) const {
        uint64_t at = 0;
        dgen_status status = dgen_verify_at(gen_, offset, buf, len, &at);
        if (status == DGEN_STATUS_MISMATCH) {
            if (mismatch_offset != nullptr) {
                *mismatch_offset = at;
            }
            return false;
        }
        detail::check(status);
        return true;
    }

    /// verify_at over a contiguous container.
    template <class C, std::enable_if_t<detail::is_byte_container_v<C>, int> = 0>
    bool verify_at(uint64_t offset, const C &container, uint64_t *mismatch_offset = nullptr) const {
        return verify_at(offset, static_cast<const void *>(std::data(container)),
                         detail::byte_size(container), mismatch_offset);
    }

    /// True when the position of a sized stream is at its end.
    bool is_complete() const noexcept { return gen_ != nullptr && dgen_is_complete(gen_); }
    /// The seed in use; a Config with it repeats the stream.
    uint64_t seed() const { return dgen_seed(handle()); }
    /// Offset the next fill starts at.
    uint64_t position() const { return dgen_position(handle()); }
    /// The stream's size in bytes; 0 for an endless stream.
    uint64_t size() const { return dgen_size(handle()); }
    /// Worker threads for large fills, after the cap at the CPUs the process
    /// may use.
    uint32_t threads() const { return dgen_threads(handle()); }

    /// Moves the position the next fill starts at. Past the end of a sized
    /// stream it throws dgen::Error (DGEN_STATUS_OUT_OF_RANGE) and the
    /// position stays; the end itself is allowed.
    void seek(uint64_t position) { detail::check(dgen_seek(gen_, position)); }
    /// Starts the stream over from offset 0.
    void rewind() { detail::check(dgen_rewind(gen_)); }

    /// The C handle, still owned by this object (null once moved from).
    dgen_generator *get() const noexcept { return gen_; }
    /// True while this object owns a handle.
    explicit operator bool() const noexcept { return gen_ != nullptr; }

private:
    // dgen_seed, dgen_position, dgen_size and dgen_threads have no status to
    // report a null handle with, so the wrapper checks first.
    const dgen_generator *handle() const {
        if (gen_ == nullptr) {
            throw Error(DGEN_STATUS_NULL_POINTER, "dgen::Generator has been moved from");
        }
        return gen_;
    }

    dgen_generator *gen_ = nullptr;
};

} // namespace dgen

#endif // DGEN_HPP
