// The C++ wrapper: RAII and moves, exceptions that carry status and message,
// container conveniences, and the same bytes as the C ABI.
#include "dgen.hpp"

extern "C" {
#include "sha256.h"
}
#include "golden.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace {

static_assert(!std::is_copy_constructible_v<dgen::Generator>, "Generator is move-only");
static_assert(!std::is_copy_assignable_v<dgen::Generator>, "Generator is move-only");
static_assert(std::is_nothrow_move_constructible_v<dgen::Generator>, "moves do not throw");
static_assert(std::is_nothrow_move_assignable_v<dgen::Generator>, "moves do not throw");
static_assert(std::is_base_of_v<std::runtime_error, dgen::Error>, "Error is a runtime_error");

// Runs `f`, which must throw dgen::Error, and returns it.
template <class F>
dgen::Error caught(F &&f) {
    try {
        f();
    } catch (const dgen::Error &e) {
        return e;
    }
    ADD_FAILURE() << "no dgen::Error was thrown";
    return dgen::Error(DGEN_STATUS_OK, "");
}

TEST(Config, StartsFromTheLibraryDefaults) {
    dgen::Config cfg;
    const dgen_config &c = cfg;
    // The fields the builder sets, as one value, so that a failure shows
    // them all.
    auto fields = [&c] {
        return std::make_tuple(c.size, c.dedup_ratio, c.compress_ratio, c.dedup_unit, c.has_seed, c.seed, c.threads);
    };
    using Fields = decltype(fields());
    EXPECT_EQ(fields(), Fields(0, 1.0, 1.0, 4096, false, 0, 0));
    cfg.size(10).dedup_ratio(2).compress_ratio(3).dedup_unit(8192).seed(5).threads(2);
    EXPECT_EQ(fields(), Fields(10, 2.0, 3.0, 8192, true, 5, 2));
    cfg.random_seed();
    EXPECT_FALSE(c.has_seed);
}

TEST(Generator, StreamsToTheEndOfASizedStream) {
    const uint64_t size = 5 * 4096 + 7;
    dgen::Generator gen(dgen::Config().size(size).compress_ratio(2.0).seed(11));
    std::vector<uint8_t> all;
    while (!gen.is_complete()) {
        std::vector<uint8_t> part = gen.read(4096);
        all.insert(all.end(), part.begin(), part.end());
    }
    EXPECT_EQ(all.size(), size);
    EXPECT_EQ(gen.position(), size);
    EXPECT_TRUE(gen.read(4096).empty());
    std::array<uint8_t, 100> buf{};
    EXPECT_EQ(gen.fill(buf), 0u);
    EXPECT_EQ(gen.read_at(0, static_cast<size_t>(size)), all);
    EXPECT_TRUE(gen.verify_at(0, all));
}

TEST(Generator, ContainersAreFilledByBytes) {
    dgen::Generator gen(dgen::Config().seed(3).compress_ratio(4.0));
    std::vector<uint32_t> words(1000);
    EXPECT_EQ(gen.fill(words), 4000u);
    std::vector<uint8_t> bytes = gen.read_at(0, 4000);
    EXPECT_EQ(std::memcmp(words.data(), bytes.data(), 4000), 0);
    std::string text(300, '\0');
    gen.fill_at(17, text);
    EXPECT_EQ(std::memcmp(text.data(), bytes.data() + 17, 300), 0);
    std::array<unsigned char, 64> arr{};
    gen.fill_at(100, arr);
    EXPECT_TRUE(gen.verify_at(100, arr));
}

TEST(Generator, VerifyReturnsFalseAndTheOffsetOfTheFirstWrongByte) {
    dgen::Generator gen(dgen::Config().dedup_ratio(2.0).compress_ratio(2.0));
    const uint64_t base = 123456789;
    std::vector<uint8_t> data = gen.read_at(base, 1 << 20);
    uint64_t at = 0;
    EXPECT_TRUE(gen.verify_at(base, data, &at));
    EXPECT_EQ(at, 0u);
    for (size_t flip : {size_t{0}, size_t{4097}, size_t{(1 << 20) - 1}}) {
        data[flip] ^= 1;
        EXPECT_FALSE(gen.verify_at(base, data, &at));
        EXPECT_EQ(at, base + flip);
        EXPECT_FALSE(gen.verify_at(base, data.data(), data.size()));
        data[flip] ^= 1;
    }
}

TEST(Generator, BadConfigThrowsWithStatusAndMessage) {
    dgen::Error e = caught([] { dgen::Generator g(dgen::Config().dedup_ratio(0.5)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_DEDUP_RATIO);
    EXPECT_STREQ(e.what(), "dedup_ratio must be a number from 1.0 to 1024.0, got 0.5");

    e = caught([] { dgen::Generator g(dgen::Config().compress_ratio(std::nan(""))); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_COMPRESS_RATIO);
    EXPECT_STREQ(e.what(), "compress_ratio must be a number from 1.0 to 32.0, got NaN");

    e = caught([] { dgen::Generator g(dgen::Config().compress_ratio(std::numeric_limits<double>::infinity())); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_COMPRESS_RATIO);
    EXPECT_STREQ(e.what(), "compress_ratio must be a number from 1.0 to 32.0, got inf");

    e = caught([] { dgen::Generator g(dgen::Config().dedup_unit(1000)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_DEDUP_UNIT);
    EXPECT_STREQ(e.what(), "dedup_unit must be a multiple of 4096 from 4096 to 67108864 (64 MiB), got 1000");

    e = caught([] { dgen::Generator g(dgen::Config().dedup_unit(0)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_DEDUP_UNIT);

    e = caught([] { dgen::Generator g(dgen::Config().threads(4097)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_THREADS);
    EXPECT_STREQ(e.what(), "threads must be from 0 (all CPUs) to 4096, got 4097");
}

TEST(Generator, RangeErrorsThrow) {
    dgen::Generator gen(dgen::Config().size(8192));
    std::vector<uint8_t> buf(100);
    dgen::Error e = caught([&] { gen.fill_at(8100, buf); });
    EXPECT_EQ(e.status(), DGEN_STATUS_OUT_OF_RANGE);
    EXPECT_STREQ(e.what(), "range out of bounds: offset 8100 + length 100 passes the stream size 8192");
    e = caught([&] { gen.verify_at(9000, buf); });
    EXPECT_EQ(e.status(), DGEN_STATUS_OUT_OF_RANGE);

    dgen::Generator endless(dgen::Config{});
    e = caught([&] { endless.fill_at(std::numeric_limits<uint64_t>::max() - 10, buf); });
    EXPECT_EQ(e.status(), DGEN_STATUS_OUT_OF_RANGE);
    e = caught([&] { endless.fill(nullptr, 10); });
    EXPECT_EQ(e.status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_STREQ(e.what(), "dgen_fill: buf must not be NULL");
}

TEST(Generator, MovesTransferTheHandle) {
    dgen::Generator a(dgen::Config().seed(99).size(1 << 20));
    dgen_generator *handle = a.get();
    ASSERT_NE(handle, nullptr);
    std::vector<uint8_t> first = a.read(1000);

    dgen::Generator b(std::move(a));
    EXPECT_EQ(b.get(), handle);
    EXPECT_TRUE(static_cast<bool>(b));
    EXPECT_FALSE(static_cast<bool>(a)); // NOLINT(bugprone-use-after-move): the moved-from state is defined
    EXPECT_EQ(b.position(), 1000u);     // the stream goes on where it was
    EXPECT_EQ(b.seed(), 99u);

    // A moved-from generator refuses every call with NULL_POINTER.
    EXPECT_FALSE(a.is_complete());
    EXPECT_EQ(caught([&] { a.read(10); }).status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_EQ(caught([&] { a.read_at(0, 10); }).status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_EQ(caught([&] { a.seed(); }).status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_EQ(caught([&] { a.position(); }).status(), DGEN_STATUS_NULL_POINTER);

    // Move-assignment frees what the target held and takes the source's.
    dgen::Generator c(dgen::Config().seed(1));
    c = std::move(b);
    EXPECT_EQ(c.get(), handle);
    EXPECT_EQ(c.read_at(0, 1000), first);
    dgen::Generator &same = c;
    c = std::move(same); // self-move leaves it intact
    EXPECT_EQ(c.get(), handle);

    // A moved-from object can be assigned again.
    a = dgen::Generator(dgen::Config().seed(99));
    EXPECT_EQ(a.read_at(0, 1000), first);
}

TEST(Generator, FillAtFromManyThreadsEqualsASerialFill) {
    dgen::Generator gen(dgen::Config().dedup_ratio(4.0).compress_ratio(3.0).dedup_unit(32768).seed(5));
    const size_t len = 8 << 20;
    std::vector<uint8_t> serial = gen.read_at(0, len);
    std::vector<uint8_t> parallel(len);
    std::vector<std::thread> threads;
    const size_t per = len / 4;
    for (size_t t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            for (size_t off = t * per; off < (t + 1) * per; off += 10000) {
                size_t n = std::min<size_t>(10000, (t + 1) * per - off);
                gen.fill_at(off, parallel.data() + off, n);
            }
        });
    }
    for (std::thread &t : threads) {
        t.join();
    }
    EXPECT_TRUE(serial == parallel);
}

TEST(Generator, GoldenSha256) {
    dgen::Generator gen(dgen::Config()
                            .size(DGEN_GOLDEN_SIZE)
                            .dedup_ratio(DGEN_GOLDEN_DEDUP_RATIO)
                            .compress_ratio(DGEN_GOLDEN_COMPRESS_RATIO)
                            .dedup_unit(DGEN_GOLDEN_DEDUP_UNIT)
                            .seed(DGEN_GOLDEN_SEED));
    sha256_ctx ctx;
    sha256_init(&ctx);
    std::vector<uint8_t> buf(1 << 20);
    for (size_t done = 0; done < DGEN_GOLDEN_PREFIX_BYTES; done += buf.size()) {
        ASSERT_EQ(gen.fill(buf), buf.size());
        sha256_update(&ctx, buf.data(), buf.size());
    }
    char hex[65];
    sha256_final_hex(&ctx, hex);
    EXPECT_STREQ(hex, DGEN_GOLDEN_SHA256);
}

TEST(Topology, ReportsPlacementAndKeepsTheBytes) {
    std::string text = dgen::topology(dgen::Config().threads(1).numa_mode(DGEN_NUMA_MODE_FORCE));
    EXPECT_EQ(text.rfind("{\"source\":", 0), 0u) << text;
    EXPECT_NE(text.find("\"placement\":{\"threads\":1,"), std::string::npos) << text;
    EXPECT_THROW(dgen::topology(dgen::Config().numa_node(4000)), dgen::Error);
    dgen::Generator a(dgen::Config().seed(5).numa_mode(DGEN_NUMA_MODE_OFF));
    dgen::Generator b(dgen::Config().seed(5).numa_node(0).threads(2));
    std::vector<uint8_t> x(3 << 20), y(3 << 20);
    a.fill_at(7, x);
    b.fill_at(7, y);
    EXPECT_EQ(x, y);
}

TEST(Config, CompressorReachesTheLibrary) {
    dgen::Config cfg;
    EXPECT_EQ(cfg.c_config().compressor, static_cast<uint32_t>(DGEN_COMPRESSOR_AUTO));
    for (dgen_compressor c : {DGEN_COMPRESSOR_AUTO, DGEN_COMPRESSOR_ZSTD, DGEN_COMPRESSOR_LZ4, DGEN_COMPRESSOR_GZIP,
                              DGEN_COMPRESSOR_SNAPPY, DGEN_COMPRESSOR_LZO, DGEN_COMPRESSOR_LZJB}) {
        cfg = dgen::Config().size(1 << 20).compress_ratio(3.0).seed(4).compressor(c);
        EXPECT_EQ(cfg.c_config().compressor, static_cast<uint32_t>(c));
        // The same bytes as the C ABI given the same config.
        dgen_config c_cfg;
        dgen_config_init(&c_cfg);
        c_cfg.size = 1 << 20;
        c_cfg.compress_ratio = 3.0;
        c_cfg.seed = 4;
        c_cfg.has_seed = true;
        c_cfg.compressor = c;
        std::vector<uint8_t> want(1 << 20);
        ASSERT_EQ(dgen_generate(&c_cfg, want.data(), want.size()), DGEN_STATUS_OK);
        EXPECT_EQ(dgen::Generator(cfg).read_at(0, 1 << 20), want) << "compressor " << c;
    }
    dgen::Error e = caught([] { dgen::Generator g(dgen::Config().compressor(static_cast<dgen_compressor>(7))); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_COMPRESSOR);
    EXPECT_STREQ(e.what(),
                 "compressor must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6), got 7");
}

TEST(Config, ASeedWithoutHasSeedIsRefused) {
    dgen_config c;
    dgen_config_init(&c);
    c.seed = 42;
    dgen::Error e = caught([&] { dgen::Generator g(c); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_CONFIG);
    EXPECT_STREQ(e.what(),
                 "seed is 42 but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed");
    // The builder sets both, and random_seed clears both.
    EXPECT_EQ(dgen::Generator(dgen::Config(c).seed(42)).seed(), 42u);
    EXPECT_EQ(dgen::Generator(dgen::Config().seed(0)).seed(), 0u);
    dgen::Config again(c);
    again.random_seed();
    EXPECT_NE(dgen::Generator(again).seed(), dgen::Generator(again).seed());
}

TEST(Config, TheFirstBadFieldInDeclarationOrderIsNamed) {
    dgen::Config cfg = dgen::Config().dedup_ratio(std::nan("")).numa_mode(static_cast<dgen_numa_mode>(9)).threads(5000);
    dgen::Error e = caught([&] { dgen::Generator g(cfg); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_DEDUP_RATIO);
    EXPECT_STREQ(e.what(), "dedup_ratio must be a number from 1.0 to 1024.0, got NaN");
    e = caught([&] { dgen::Generator g(cfg.dedup_ratio(2.0)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_THREADS);
    e = caught([&] { dgen::Generator g(cfg.threads(0).compressor(static_cast<dgen_compressor>(99))); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_CONFIG);
    EXPECT_EQ(std::string(e.what()).rfind("numa_mode ", 0), 0u) << e.what();
}

TEST(Generator, SizeSeekAndRewind) {
    const uint64_t size = 100000;
    dgen::Generator gen(dgen::Config().size(size).compress_ratio(2.0).seed(6));
    std::vector<uint8_t> all = gen.read_at(0, size);
    EXPECT_EQ(gen.size(), size);
    gen.seek(70000);
    EXPECT_EQ(gen.position(), 70000u);
    EXPECT_EQ(gen.read(1000), std::vector<uint8_t>(all.begin() + 70000, all.begin() + 71000));
    dgen::Error e = caught([&] { gen.seek(size + 1); });
    EXPECT_EQ(e.status(), DGEN_STATUS_OUT_OF_RANGE);
    EXPECT_STREQ(e.what(), "dgen_seek: position 100001 passes the end of the stream (size 100000)");
    EXPECT_EQ(gen.position(), 71000u);
    gen.seek(size);
    EXPECT_TRUE(gen.is_complete());
    EXPECT_TRUE(gen.read(10).empty());
    gen.rewind();
    EXPECT_FALSE(gen.is_complete());
    EXPECT_EQ(gen.read(1000), std::vector<uint8_t>(all.begin(), all.begin() + 1000));
    EXPECT_EQ(dgen::Generator(dgen::Config()).size(), 0u);

    dgen::Generator moved(std::move(gen));
    EXPECT_EQ(caught([&] { gen.size(); }).status(), DGEN_STATUS_NULL_POINTER); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(caught([&] { gen.seek(0); }).status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_EQ(caught([&] { gen.rewind(); }).status(), DGEN_STATUS_NULL_POINTER);
    EXPECT_EQ(caught([&] { gen.threads(); }).status(), DGEN_STATUS_NULL_POINTER);
}

TEST(Generator, AnEmptyRangePastTheEndIsOutOfRange) {
    dgen::Generator gen(dgen::Config().size(8192));
    std::vector<uint8_t> none;
    gen.fill_at(8192, none);
    EXPECT_TRUE(gen.verify_at(8192, none));
    EXPECT_EQ(caught([&] { gen.fill_at(8193, none); }).status(), DGEN_STATUS_OUT_OF_RANGE);
    dgen::Error e = caught([&] { gen.verify_at(8193, none); });
    EXPECT_EQ(e.status(), DGEN_STATUS_OUT_OF_RANGE);
    EXPECT_STREQ(e.what(), "range out of bounds: offset 8193 + length 0 passes the stream size 8192");
}

TEST(Generator, ThreadsAreCappedAtTheCpus) {
    dgen::Generator all(dgen::Config{});
    dgen::Generator many(dgen::Config().threads(4096));
    EXPECT_GE(all.threads(), 1u);
    EXPECT_EQ(many.threads(), all.threads());
    EXPECT_EQ(dgen::Generator(dgen::Config().threads(1)).threads(), 1u);
}

TEST(Generate, FillsFromOffsetZeroIntoAlignedMemory) {
    const dgen::Config cfg = dgen::Config().size(3 << 20).dedup_ratio(2.0).compress_ratio(3.0).seed(8);
    std::vector<uint8_t> want = dgen::Generator(cfg).read_at(0, 3 << 20);
    EXPECT_EQ(dgen::generate(cfg), want);

    dgen::AlignedBuffer buf(3 << 20);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buf.data()) % 4096, 0u);
    EXPECT_EQ(buf.size(), size_t{3} << 20);
    dgen::generate(cfg, buf);
    EXPECT_EQ(std::memcmp(buf.data(), want.data(), want.size()), 0);
    dgen::Generator gen(cfg);
    EXPECT_TRUE(gen.verify_at(0, buf));

    dgen::AlignedBuffer small(100, 512);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % 512, 0u);
    dgen::AlignedBuffer taken(std::move(small));
    EXPECT_EQ(small.data(), nullptr); // NOLINT(bugprone-use-after-move): the moved-from state is defined
    EXPECT_EQ(taken.size(), 100u);
    EXPECT_EQ(caught([] { dgen::AlignedBuffer b(100, 3000); }).status(), DGEN_STATUS_OUT_OF_RANGE);

    dgen::Error e = caught([] { dgen::generate(dgen::Config().dedup_ratio(0.5)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_CONFIG);
    EXPECT_EQ(std::string(e.what()).rfind("size must be", 0), 0u) << e.what();
    std::vector<uint8_t> more(want.size() + 1);
    EXPECT_EQ(caught([&] { dgen::generate(cfg, more); }).status(), DGEN_STATUS_OUT_OF_RANGE);
    e = caught([&] { dgen::generate(dgen::Config().size(10).dedup_ratio(0.5)); });
    EXPECT_EQ(e.status(), DGEN_STATUS_INVALID_DEDUP_RATIO);
}

TEST(Library, VersionMatchesTheHeader) {
    EXPECT_EQ(dgen::version(), DGEN_VERSION);
    EXPECT_EQ(dgen::version(), std::to_string(DGEN_VERSION_MAJOR) + "." + std::to_string(DGEN_VERSION_MINOR) +
                                   "." + std::to_string(DGEN_VERSION_PATCH));
}

} // namespace
