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
    EXPECT_EQ(c.size, 0u);
    EXPECT_EQ(c.dedup_ratio, 1.0);
    EXPECT_EQ(c.compress_ratio, 1.0);
    EXPECT_EQ(c.dedup_unit, 4096u);
    EXPECT_FALSE(c.has_seed);
    EXPECT_EQ(c.threads, 0u);
    cfg.size(10).dedup_ratio(2).compress_ratio(3).dedup_unit(8192).seed(5).threads(2);
    EXPECT_EQ(c.size, 10u);
    EXPECT_EQ(c.dedup_ratio, 2.0);
    EXPECT_EQ(c.compress_ratio, 3.0);
    EXPECT_EQ(c.dedup_unit, 8192u);
    EXPECT_TRUE(c.has_seed);
    EXPECT_EQ(c.seed, 5u);
    EXPECT_EQ(c.threads, 2u);
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
    std::string text = dgen::topology(dgen::Config().threads(3).numa_mode(DGEN_NUMA_MODE_FORCE));
    EXPECT_EQ(text.rfind("{\"source\":", 0), 0u) << text;
    EXPECT_NE(text.find("\"placement\":{\"threads\":3,"), std::string::npos) << text;
    EXPECT_THROW(dgen::topology(dgen::Config().numa_node(4000)), dgen::Error);
    dgen::Generator a(dgen::Config().seed(5).numa_mode(DGEN_NUMA_MODE_OFF));
    dgen::Generator b(dgen::Config().seed(5).numa_node(0).threads(2));
    std::vector<uint8_t> x(3 << 20), y(3 << 20);
    a.fill_at(7, x);
    b.fill_at(7, y);
    EXPECT_EQ(x, y);
}

TEST(Library, VersionMatchesTheHeader) {
    EXPECT_EQ(dgen::version(), DGEN_VERSION);
    EXPECT_EQ(dgen::version(), std::to_string(DGEN_VERSION_MAJOR) + "." + std::to_string(DGEN_VERSION_MINOR) +
                                   "." + std::to_string(DGEN_VERSION_PATCH));
}

} // namespace
