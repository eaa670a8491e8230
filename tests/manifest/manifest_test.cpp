// Tests for the release manifest (manifest/manifest.h, validate.cpp, json_reader.h),
// the channel pointer (manifest/channel.h) and the chunk codec (manifest/chunk_codec.h):
// the canonical form as a known answer, and a strict parser whose every error names the field.
#include "manifest/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/channel.h"
#include "manifest/chunk_codec.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

namespace ironstone::manifest {
namespace {

using ::ironstone::testing::filled;
using ::ironstone::testing::pseudo_random;
using ::ironstone::testing::sample_manifest;
using ::testing::HasSubstr;
using json = nlohmann::json;

[[maybe_unused]] const bool kCryptoReady = (init_crypto(), true);

std::string hex_of(char c) { return std::string(64, c); }
std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The canonical bytes of sample_manifest(): keys sorted, no whitespace, one final newline.
const std::string kSampleJson =
    "{\"board\":\"rpi5\",\"channel\":\"stable\",\"chunk_size\":65536,\"chunks\":["
    "{\"compression\":\"zstd\",\"hash\":\"" + hex_of('1') + "\",\"length\":65536,\"offsets\":[0,131072],"
    "\"stored_hash\":\"" + repeat("12", 32) + "\",\"stored_size\":1000},"
    "{\"compression\":\"raw\",\"hash\":\"" + hex_of('2') + "\",\"length\":100,\"offsets\":[262144],"
    "\"stored_hash\":\"" + hex_of('2') + "\",\"stored_size\":100}],"
    "\"created\":\"2026-01-01T00:00:00Z\",\"expires\":\"2030-01-01T00:00:00Z\","
    "\"firmware\":[{\"hash\":\"" + hex_of('c') + "\",\"kind\":\"rpi-eeprom\",\"name\":\"pieeprom.bin\",\"size\":524288}],"
    "\"format_version\":2,\"image_hash\":\"" + hex_of('a') + "\",\"image_size\":262244,"
    "\"info_hash_v2\":\"" + hex_of('b') + "\","
    "\"provenance\":{\"builder_host\":\"ci-1\",\"ci_run\":\"github:42\",\"git_commit\":\"0123abc\","
    "\"source_hash\":\"" + hex_of('d') + "\",\"source_name\":\"gold.img\",\"tool_version\":\"ironstone-build 0.1.0\"},"
    "\"sequence\":7,\"version\":\"1.0.0\","
    "\"zero_ranges\":[{\"length\":65536,\"offset\":65536},{\"length\":65536,\"offset\":196608}]}\n";

Manifest parse(const std::string& text) { return parse_manifest(text, "manifest.json"); }

// The sample as a JSON value, changed by `edit`, then serialised (sorted keys) and parsed.
Manifest parse_edited(const std::function<void(json&)>& edit) {
  json doc = json::parse(kSampleJson);
  edit(doc);
  return parse(doc.dump() + "\n");
}

// ---------------------------------------------------------------------------------------------
// Canonical form

TEST(ManifestFormat, SerializeGivesTheCanonicalKnownAnswerBytes) { EXPECT_EQ(serialize(sample_manifest()), kSampleJson); }

TEST(ManifestFormat, ParseOfCanonicalBytesRoundTripsEveryField) {
  Manifest m = parse(kSampleJson);
  EXPECT_EQ(m.format_version, 2u);
  EXPECT_EQ(m.board, "rpi5");
  EXPECT_EQ(m.version, "1.0.0");
  EXPECT_EQ(m.sequence, 7u);
  EXPECT_EQ(m.channel, "stable");
  EXPECT_EQ(m.created, 1767225600);
  EXPECT_EQ(m.expires, 1893456000);
  EXPECT_EQ(m.image_size, 262244u);
  EXPECT_EQ(m.image_hash, filled(0xaa));
  EXPECT_EQ(m.chunk_size, 65536u);
  ASSERT_EQ(m.chunks.size(), 2u);
  EXPECT_EQ(m.chunks[0].hash, filled(0x11));
  EXPECT_EQ(m.chunks[0].offsets, (std::vector<std::uint64_t>{0, 0x20000}));
  EXPECT_EQ(m.chunks[0].compression, Compression::kZstd);
  EXPECT_EQ(m.chunks[1].compression, Compression::kRaw);
  EXPECT_EQ(m.chunks[1].length, 100u);
  EXPECT_EQ(m.zero_ranges, (std::vector<ZeroRange>{{0x10000, 0x10000}, {0x30000, 0x10000}}));
  EXPECT_EQ(m.info_hash_v2, hex_of('b'));
  ASSERT_EQ(m.firmware.size(), 1u);
  EXPECT_EQ(m.firmware[0].name, "pieeprom.bin");
  EXPECT_EQ(m.provenance.ci_run, "github:42");
  EXPECT_EQ(serialize(m), kSampleJson);
}

TEST(ManifestFormat, StoredAndDataBytesAddUpTheChunkTable) {
  Manifest m = sample_manifest();
  EXPECT_EQ(m.stored_bytes(), 1100u);
  EXPECT_EQ(m.data_bytes(), 2u * 65536 + 100);
}

TEST(ManifestFormat, TimesAreExactlyRfc3339UtcSeconds) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parse_time("2030-01-01T00:00:00Z"), 1893456000);
  EXPECT_EQ(parse_time("2028-02-29T12:00:00Z"), 1835438400);
  EXPECT_FALSE(parse_time("2027-02-29T12:00:00Z"));  // not a leap year
  EXPECT_FALSE(parse_time("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_time("2026-01-01T00:00:00z"));
  EXPECT_FALSE(parse_time("2026-01-01T00:00:00+00:00"));
  EXPECT_FALSE(parse_time("2026-01-01 00:00:00Z"));
  EXPECT_FALSE(parse_time("2026-01-01T24:00:00Z"));
  EXPECT_FALSE(parse_time(""));
}

TEST(ManifestFormat, NameRulesRejectPathsAndDotNames) {
  EXPECT_TRUE(valid_board_name("rock5b"));
  EXPECT_FALSE(valid_board_name("Rock5b"));
  EXPECT_FALSE(valid_board_name(""));
  EXPECT_FALSE(valid_board_name(std::string(65, 'a')));
  EXPECT_TRUE(valid_version_name("2026.01.1+build_7-rc1"));
  EXPECT_FALSE(valid_version_name("."));
  EXPECT_FALSE(valid_version_name(".."));
  EXPECT_FALSE(valid_version_name(".tmp-1"));
  EXPECT_FALSE(valid_version_name("a/b"));
  EXPECT_FALSE(valid_version_name("1.0 beta"));
}

// ---------------------------------------------------------------------------------------------
// The build audit trail: optional provenance.recipe and provenance.build_log

TEST(ManifestAuditTrail, AManifestWithoutRecipeOrBuildLogParsesAndWritesNeither) {
  const Manifest m = parse(kSampleJson);
  EXPECT_FALSE(m.provenance.recipe);
  EXPECT_FALSE(m.provenance.build_log);
  EXPECT_EQ(serialize(m), kSampleJson);
}

TEST(ManifestAuditTrail, RecipeAndBuildLogRoundTripInTheProvenance) {
  const Manifest m = parse_edited([](json& d) {
    d["provenance"]["recipe"] = {{"size", 120}, {"hash", hex_of('e')}};
    d["provenance"]["build_log"] = {{"size", 9000}, {"hash", hex_of('f')}};
  });
  ASSERT_TRUE(m.provenance.recipe);
  ASSERT_TRUE(m.provenance.build_log);
  EXPECT_EQ(m.provenance.recipe->size, 120u);
  EXPECT_EQ(m.provenance.recipe->hash.hex(), hex_of('e'));
  EXPECT_EQ(m.provenance.build_log->size, 9000u);
  EXPECT_EQ(m.provenance.build_log->hash.hex(), hex_of('f'));
  EXPECT_THAT(serialize(m), HasSubstr("\"build_log\":{\"hash\":\"" + hex_of('f') + "\",\"size\":9000}"));
  EXPECT_EQ(serialize(parse(serialize(m))), serialize(m));
}

TEST(ManifestAuditTrail, AnEmptyOrUnknownFieldInTheRecipeIsRejectedNamingIt) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["provenance"]["recipe"] = {{"size", 0}, {"hash", hex_of('e')}}; }),
                  Errc::kField, "manifest.json: field 'provenance.recipe.size': a recipe is never empty");
  EXPECT_ERROR_EQ(
      parse_edited([](json& d) { d["provenance"]["build_log"] = {{"size", 1}, {"hash", hex_of('e')}, {"url", "x"}}; }),
      Errc::kField, "manifest.json: field 'provenance.build_log.url': unknown field");
}

TEST(ManifestForwardCompatibility, ANewerBuildersProvenanceFieldsAreIgnoredAndNamed) {
  const Manifest m = parse_edited([](json& d) {
    d["provenance"]["signer"] = "ci@example";
    d["provenance"]["attestation"] = {{"kind", "slsa"}, {"level", 3}};
  });
  EXPECT_THAT(m.provenance.unknown_fields, ::testing::ElementsAre("attestation", "signer"));
  EXPECT_EQ(m.provenance.builder_host, sample_manifest().provenance.builder_host);  // the known ones as before
  EXPECT_THAT(serialize(m), ::testing::Not(HasSubstr("signer")));
  EXPECT_TRUE(parse(kSampleJson).provenance.unknown_fields.empty());
}

TEST(ManifestForwardCompatibility, OnlyProvenanceIsOpenAndItsKnownFieldsStayStrict) {
  // A field a reader must understand still fails closed, with its path.
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["encrypted"] = true; }), Errc::kField,
                  "manifest.json: field 'chunks[0].encrypted': unknown field");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["provenance"]["builder_host"] = 7; }), Errc::kField,
                  "manifest.json: field 'provenance.builder_host': expected a string");
}

// ---------------------------------------------------------------------------------------------
// Strict parser: unknown fields and versions, duplicates, trailing data, types

TEST(ManifestParser, UnknownTopLevelFieldIsRejectedNamingTheField) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["signed_by"] = "me"; }), Errc::kField,
                  "manifest.json: field 'signed_by': unknown field");
}

TEST(ManifestParser, UnknownNestedFieldIsRejectedWithItsPath) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1]["note"] = 1; }), Errc::kField,
                  "manifest.json: field 'chunks[1].note': unknown field");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"][0]["fill"] = 0; }), Errc::kField,
                  "manifest.json: field 'zero_ranges[0].fill': unknown field");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["firmware"][0]["url"] = "x"; }), Errc::kField,
                  "manifest.json: field 'firmware[0].url': unknown field");
}

TEST(ManifestParser, UnknownFormatVersionIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["format_version"] = 3; }), Errc::kField,
                  "manifest.json: field 'format_version': unsupported version 3 (this build reads 1 to 2)");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["format_version"] = 0; }), Errc::kField,
                  "manifest.json: field 'format_version': unsupported version 0 (this build reads 1 to 2)");
}

TEST(ManifestParser, FormatOneIsReadWithoutStoredHashesAndRefusesOne) {
  const Manifest m = parse_edited([](json& d) {
    d["format_version"] = 1;
    for (auto& c : d["chunks"]) c.erase("stored_hash");
  });
  EXPECT_EQ(m.format_version, 1u);
  ASSERT_EQ(m.chunks.size(), 2u);
  EXPECT_FALSE(m.chunks[0].stored_hash.has_value());
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["format_version"] = 1; }), Errc::kField,
                  "manifest.json: field 'chunks[0].stored_hash': unknown field");
}

TEST(ManifestParser, FormatTwoRequiresEveryChunksStoredHashAndARawOneIsItsHash) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1].erase("stored_hash"); }), Errc::kField,
                  "manifest.json: field 'chunks[1].stored_hash': missing");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1]["stored_hash"] = std::string(64, '3'); }),
                  Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].stored_hash': a raw chunk's stored bytes are its bytes: must "
                  "equal 'hash'");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["stored_hash"] = std::string(64, 'A'); }), Errc::kField,
                  "manifest.json: field 'chunks[0].stored_hash': expected 64 lower-case hex digits");
}

TEST(ManifestParser, MissingFieldIsRejectedNamingTheField) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d.erase("sequence"); }), Errc::kField,
                  "manifest.json: field 'sequence': missing");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0].erase("stored_size"); }), Errc::kField,
                  "manifest.json: field 'chunks[0].stored_size': missing");
}

TEST(ManifestWithDuplicateKeyIsRejectedNamingTheKey, AtTopLevel) {
  std::string text = kSampleJson;
  text.insert(1, "\"board\":\"rock5b\",");
  EXPECT_ERROR_EQ(parse(text), Errc::kParse, "manifest.json: duplicate key 'board'");
}

TEST(ManifestWithDuplicateKeyIsRejectedNamingTheKey, InsideAChunkEntry) {
  std::string text = kSampleJson;
  const std::string anchor = "{\"compression\":\"raw\",";
  text.insert(text.find(anchor) + 1, "\"length\":100,");
  EXPECT_ERROR_EQ(parse(text), Errc::kParse, "manifest.json: duplicate key 'length'");
}

TEST(ManifestParser, SameKeyInSiblingObjectsIsNotADuplicate) { EXPECT_NO_THROW(parse(kSampleJson)); }

TEST(ManifestParser, TrailingDataAfterTheDocumentIsRejected) {
  EXPECT_ERROR_HAS(parse(kSampleJson + "x"), Errc::kParse, "syntax error");
  EXPECT_ERROR_HAS(parse(kSampleJson + "{}"), Errc::kParse, "syntax error");
}

TEST(ManifestParser, TrailingBytesAfterANulAreRejected) {
  // nlohmann reads a NUL as the end of input: "{...}\0junk" must not parse as "{...}".
  std::string with_nul = kSampleJson;
  with_nul.push_back('\0');
  with_nul += "junk";
  EXPECT_ERROR_EQ(parse(with_nul), Errc::kParse,
                  "manifest.json: NUL byte at byte " + std::to_string(kSampleJson.size()));
  std::string inner = kSampleJson;
  inner[inner.find("gold.img")] = '\0';
  EXPECT_ERROR_HAS(parse(inner), Errc::kParse, "manifest.json: NUL byte at byte ");
  EXPECT_ERROR_HAS(parse_channel_pointer(std::string("{}\0", 3), "stable.json"), Errc::kParse,
                   "stable.json: NUL byte at byte 2");
}

TEST(ManifestParser, EmptyAndNonObjectDocumentsAreRejected) {
  EXPECT_ERROR_HAS(parse(""), Errc::kParse, "syntax error");
  EXPECT_ERROR_EQ(parse("[]"), Errc::kField, "manifest.json: document: expected an object");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0] = 5; }), Errc::kField,
                  "manifest.json: field 'chunks[0]': expected an object");
}

TEST(ManifestParser, InvalidUtf8IsRejected) {
  std::string text = kSampleJson;
  text.replace(text.find("gold.img"), 4, "go\xC3\x28");
  EXPECT_ERROR_HAS(parse(text), Errc::kParse, "syntax error");
}

TEST(ManifestParser, DeepNestingIsRejected) {
  std::string deep = "{\"board\":" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_ERROR_EQ(parse(deep), Errc::kParse, "manifest.json: nesting deeper than 16");
}

TEST(ManifestParser, InputLargerThanTheLimitIsRejectedBeforeParsing) {
  std::string huge(kMaxManifestBytes + 1, ' ');
  EXPECT_ERROR_EQ(parse(huge), Errc::kTooLarge,
                  "manifest.json: 67108865 bytes exceeds the manifest limit of 67108864");
}

TEST(ManifestParser, WrongTypesAreRejectedNamingTheField) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["sequence"] = "7"; }), Errc::kField,
                  "manifest.json: field 'sequence': expected a non-negative integer");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["sequence"] = -1; }), Errc::kField,
                  "manifest.json: field 'sequence': expected a non-negative integer");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["image_size"] = 262244.0; }), Errc::kField,
                  "manifest.json: field 'image_size': expected a non-negative integer");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["board"] = 5; }), Errc::kField,
                  "manifest.json: field 'board': expected a string");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"] = json::object(); }), Errc::kField,
                  "manifest.json: field 'chunks': expected an array");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["offsets"][1] = "0x20000"; }), Errc::kField,
                  "manifest.json: field 'chunks[0].offsets': element 1 is not an offset");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["compression"] = "gzip"; }), Errc::kField,
                  "manifest.json: field 'chunks[0].compression': expected \"zstd\" or \"raw\", got \"gzip\"");
}

TEST(ManifestParser, OutOfRangeNumbersAreRejectedNamingTheField) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunk_size"] = 1ull << 32; }), Errc::kField,
                  "manifest.json: field 'chunk_size': 4294967296 exceeds 67108864");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["stored_size"] = 5000000000ull; }), Errc::kField,
                  "manifest.json: field 'chunks[0].stored_size': 5000000000 exceeds 67108864");
}

TEST(ManifestParser, HashesMustBeLowerCaseHexOfTheRightLength) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["image_hash"] = hex_of('A'); }), Errc::kField,
                  "manifest.json: field 'image_hash': expected 64 lower-case hex digits");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["hash"] = std::string(62, '1'); }), Errc::kField,
                  "manifest.json: field 'chunks[0].hash': expected 64 lower-case hex digits");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["provenance"]["source_hash"] = hex_of('g'); }), Errc::kField,
                  "manifest.json: field 'provenance.source_hash': expected 64 lower-case hex digits");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["info_hash_v2"] = hex_of('B'); }), Errc::kField,
                  "manifest.json: field 'info_hash_v2': expected 64 lower-case hex digits");
}

TEST(ManifestParser, TimesInAnyOtherFormatAreRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["expires"] = "2030-01-01"; }), Errc::kField,
                  "manifest.json: field 'expires': expected a UTC time like 2026-01-31T12:00:00Z");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["created"] = 1767225600; }), Errc::kField,
                  "manifest.json: field 'created': expected a string");
}

TEST(ManifestParser, BadNamesAreRejectedNamingTheField) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["board"] = "RPi5"; }), Errc::kField,
                  "manifest.json: field 'board': expected [a-z0-9-]{1,64}");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["version"] = "../1.0"; }), Errc::kField,
                  "manifest.json: field 'version': expected [A-Za-z0-9._+-]{1,64}");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["channel"] = "beta/x"; }), Errc::kField,
                  "manifest.json: field 'channel': expected [a-z0-9-]{1,64}");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["firmware"][0]["name"] = "../boot.bin"; }), Errc::kField,
                  "manifest.json: field 'firmware[0].name': expected [A-Za-z0-9._+-]{1,64}");
}

// ---------------------------------------------------------------------------------------------
// Sizes that do not add up

TEST(ManifestSizes, ImageSizeLargerThanChunksAndZerosIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["image_size"] = 262244 + 65536; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].length': 100 does not fit offset 0x40000 (expected 65536)");
  Manifest m = sample_manifest();
  m.image_size = 4 * 65536 + 200;  // tail chunk says 100 bytes
  EXPECT_ERROR_EQ(validate(m, "manifest.json"), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].length': 100 does not fit offset 0x40000 (expected 200)");
}

TEST(ManifestSizes, GapInTheImageIsRejectedNamingTheOffset) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"].erase(1); }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].offsets[0]': gap in the image before 0x40000");
}

TEST(ManifestSizes, ImageLargerThanWhatIsCoveredIsRejected) {
  Manifest m = sample_manifest();
  m.image_size += 65536;
  m.chunks[1].length = 65536;
  m.chunks[1].stored_size = 65536;
  EXPECT_ERROR_EQ(validate(m, "m"), Errc::kInconsistent,
                  "m: field 'image_size': chunks and zero ranges cover 327680 of 327780 bytes");
}

TEST(ManifestSizes, OverlappingChunkAndZeroRangeIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"][0]["length"] = 0x20000; }), Errc::kInconsistent,
                  "manifest.json: field 'zero_ranges[1]': overlaps or touches the previous range (ranges must be "
                  "sorted and merged)");
  EXPECT_ERROR_EQ(parse_edited([](json& d) {
                    d["zero_ranges"].erase(1);
                    d["zero_ranges"][0]["length"] = 0x20000;
                  }),
                  Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].offsets[1]': overlaps another chunk or zero range at 0x20000");
}

TEST(ManifestSizes, StoredSizeLargerThanLengthIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["stored_size"] = 70000; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].stored_size': 70000 exceeds length 65536");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["stored_size"] = 0; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].stored_size': 0 exceeds length 65536");
}

TEST(ManifestSizes, CompressionFlagMustAgreeWithStoredSize) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["stored_size"] = 65536; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].stored_size': zstd chunk must be smaller than its length (else "
                  "it is stored raw)");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1]["stored_size"] = 99; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].stored_size': raw chunk must store exactly its length");
}

TEST(ManifestSizes, MisalignedOrOutOfImageOffsetsAreRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["offsets"][1] = 0x20001; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].offsets[1]': 0x20001 is not chunk-aligned");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1]["offsets"][0] = 0x50000; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].offsets[0]': 0x50000 is beyond the image");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["offsets"] = {0x20000, 0}; }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].offsets[1]': offsets not ascending");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["offsets"] = json::array(); }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[0].offsets': empty");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"][1]["offset"] = 0x30001; }), Errc::kInconsistent,
                  "manifest.json: field 'zero_ranges[1].offset': 0x30001 is not chunk-aligned");
}

TEST(ManifestSizes, MoreOffsetsThanTheImageHasChunksIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][0]["offsets"] = {0, 0x10000, 0x20000, 0x30000, 0x40000, 0x50000}; }),
                  Errc::kInconsistent, "manifest.json: field 'chunks[0].offsets': more chunk offsets than the image has chunks");
}

TEST(ManifestSizes, ChunkTableMustBeSortedByHashWithoutDuplicates) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { std::swap(d["chunks"][0], d["chunks"][1]); }), Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].hash': chunk table not sorted by hash, or hash listed twice");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunks"][1]["hash"] = d["chunks"][0]["hash"]; }),
                  Errc::kInconsistent,
                  "manifest.json: field 'chunks[1].hash': chunk table not sorted by hash, or hash listed twice");
}

TEST(ManifestSizes, ChunkSizeMustBeAPowerOfTwoInRange) {
  for (std::uint64_t cs : {65535ull, 98304ull, 32768ull, 128ull << 20}) {
    SCOPED_TRACE(cs);
    EXPECT_ERROR_HAS(parse_edited([&](json& d) { d["chunk_size"] = cs; }), Errc::kField,
                     "field 'chunk_size'");
  }
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["chunk_size"] = 98304; }), Errc::kField,
                  "manifest.json: field 'chunk_size': 98304 is not a power of two between 64 KiB and 64 MiB");
}

TEST(ManifestSizes, ZeroRangesMustBeMergedAndNonEmpty) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) {
                    d["zero_ranges"] = {{{"offset", 0x10000}, {"length", 0}}, {{"offset", 0x30000}, {"length", 0x10000}}};
                  }),
                  Errc::kInconsistent, "manifest.json: field 'zero_ranges[0].length': empty range");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"][0]["length"] = 0x8000; }), Errc::kInconsistent,
                  "manifest.json: field 'zero_ranges[0].length': not a multiple of chunk_size and not at the image's "
                  "end");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["zero_ranges"][1]["length"] = 0x30000; }), Errc::kInconsistent,
                  "manifest.json: field 'zero_ranges[1]': extends beyond the image");
}

TEST(ManifestSizes, EmptyImageAndExpiryBeforeCreationAreRejected) {
  Manifest m = sample_manifest();
  m.image_size = 0;
  m.chunks.clear();
  m.zero_ranges.clear();
  EXPECT_ERROR_EQ(validate(m, "m"), Errc::kField, "m: field 'image_size': image is empty");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["expires"] = d["created"]; }), Errc::kInconsistent,
                  "manifest.json: field 'expires': not after 'created'");
}

TEST(ManifestSizes, FirmwareListedTwiceOrEmptyIsRejected) {
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["firmware"].push_back(d["firmware"][0]); }), Errc::kInconsistent,
                  "manifest.json: field 'firmware[1].name': listed twice");
  EXPECT_ERROR_EQ(parse_edited([](json& d) { d["firmware"][0]["size"] = 0; }), Errc::kField,
                  "manifest.json: field 'firmware[0].size': not within 1 byte..64 MiB");
}

TEST(ManifestSizes, AllZeroImageWithOnlyAZeroRangeIsConsistent) {
  Manifest m = sample_manifest();
  m.chunks.clear();
  m.zero_ranges = {{0, m.image_size}};
  EXPECT_NO_THROW(validate(m, "m"));
}

// ---------------------------------------------------------------------------------------------
// Channel pointer

ChannelPointer sample_pointer() {
  ChannelPointer p;
  p.board = "rpi5";
  p.channel = "stable";
  p.version = "1.0.0";
  p.sequence = 7;
  p.expires = 1893456000;
  p.manifest_hash = filled(0xee);
  return p;
}

const std::string kPointerJson = "{\"board\":\"rpi5\",\"channel\":\"stable\",\"expires\":\"2030-01-01T00:00:00Z\","
                                 "\"format_version\":1,\"manifest_hash\":\"" +
                                 hex_of('e') + "\",\"sequence\":7,\"version\":\"1.0.0\"}\n";

TEST(ChannelPointer, SerializeGivesTheCanonicalKnownAnswerAndRoundTrips) {
  EXPECT_EQ(serialize(sample_pointer()), kPointerJson);
  ChannelPointer p = parse_channel_pointer(kPointerJson, "stable.json");
  EXPECT_EQ(p.board, "rpi5");
  EXPECT_EQ(p.sequence, 7u);
  EXPECT_EQ(p.expires, 1893456000);
  EXPECT_EQ(p.manifest_hash, filled(0xee));
}

ChannelPointer parse_pointer_edited(const std::function<void(json&)>& edit) {
  json doc = json::parse(kPointerJson);
  edit(doc);
  return parse_channel_pointer(doc.dump(), "stable.json");
}

TEST(ChannelPointer, StrictParserNamesTheField) {
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d["latest"] = true; }), Errc::kField,
                  "stable.json: field 'latest': unknown field");
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d["format_version"] = 2; }), Errc::kField,
                  "stable.json: field 'format_version': unsupported version 2");
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d.erase("manifest_hash"); }), Errc::kField,
                  "stable.json: field 'manifest_hash': missing");
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d["manifest_hash"] = hex_of('E'); }), Errc::kField,
                  "stable.json: field 'manifest_hash': expected 64 lower-case hex digits");
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d["version"] = ".."; }), Errc::kField,
                  "stable.json: field 'version': expected [A-Za-z0-9._+-]{1,64}");
  EXPECT_ERROR_EQ(parse_pointer_edited([](json& d) { d["board"] = ""; }), Errc::kField,
                  "stable.json: field 'board': expected [a-z0-9-]{1,64}");
  std::string dup = kPointerJson;
  dup.insert(1, "\"sequence\":9,");
  EXPECT_ERROR_EQ(parse_channel_pointer(dup, "stable.json"), Errc::kParse, "stable.json: duplicate key 'sequence'");
  EXPECT_ERROR_HAS(parse_channel_pointer(kPointerJson + "[]", "stable.json"), Errc::kParse,
                   "syntax error");
  EXPECT_ERROR_EQ(parse_channel_pointer(std::string(65 * 1024, ' '), "stable.json"), Errc::kTooLarge,
                  "stable.json: channel pointer larger than 64 KiB");
}

// ---------------------------------------------------------------------------------------------
// Chunk codec

TEST(ChunkCodec, CompressibleChunkIsStoredZstdAndDecodesBack) {
  auto data = pseudo_random(65536, 1, /*compressible=*/true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  ASSERT_EQ(enc.encode(data, &stored), Compression::kZstd);
  EXPECT_LT(stored.size(), data.size());
  Chunk c{blake2b256(data), 65536, static_cast<std::uint32_t>(stored.size()), Compression::kZstd, {0}, std::nullopt};
  ChunkDecoder dec;
  dec.decode(stored, c, &out);
  EXPECT_EQ(out, data);
}

TEST(ChunkCodec, IncompressibleChunkIsStoredRawAndNeverLarger) {
  auto data = pseudo_random(65536, 2);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored;
  ASSERT_EQ(enc.encode(data, &stored), Compression::kRaw);
  EXPECT_EQ(stored, data);
}

TEST(ChunkCodec, SpanEncoderGivesTheSameBytesWithoutCopyingRawChunks) {
  ChunkEncoder enc(3);
  auto compressible = pseudo_random(65536, 6, true), random = pseudo_random(65536, 7);
  std::vector<std::uint8_t> stored;
  ASSERT_EQ(enc.encode(compressible, &stored), Compression::kZstd);
  Compression how = Compression::kRaw;
  auto z = enc.encode(compressible, &how);
  EXPECT_EQ(how, Compression::kZstd);
  EXPECT_EQ(std::vector<std::uint8_t>(z.begin(), z.end()), stored);
  // A bigger chunk after a smaller one: the encoder's buffer grows.
  auto big = pseudo_random(4 * 65536, 8, true);
  ASSERT_EQ(enc.encode(big, &stored), Compression::kZstd);
  auto zb = enc.encode(big, &how);
  EXPECT_EQ(std::vector<std::uint8_t>(zb.begin(), zb.end()), stored);
  auto r = enc.encode(random, &how);
  EXPECT_EQ(how, Compression::kRaw);
  EXPECT_EQ(r.data(), random.data());  // the input itself, not a copy
  EXPECT_EQ(r.size(), random.size());
}

TEST(ChunkCodec, DecoderRejectsWrongStoredSizeTruncationAndFlippedBytes) {
  auto data = pseudo_random(65536, 3, true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  enc.encode(data, &stored);
  Chunk c{blake2b256(data), 65536, static_cast<std::uint32_t>(stored.size()), Compression::kZstd, {0}, std::nullopt};
  ChunkDecoder dec;
  std::vector<std::uint8_t> truncated(stored.begin(), stored.end() - 1);
  EXPECT_ERROR_EQ(dec.decode(truncated, c, &out), Errc::kCompression,
                  "stored size " + std::to_string(stored.size() - 1) + " is not the signed " +
                      std::to_string(stored.size()));
  Chunk c2 = c;
  c2.stored_size -= 1;
  EXPECT_ERROR_HAS(dec.decode(truncated, c2, &out), Errc::kCompression, "zstd: ");
  Chunk raw{blake2b256(data), 65536, 65536, Compression::kRaw, {0}, std::nullopt};
  auto flipped = data;
  flipped[1234] ^= 1;
  EXPECT_ERROR_EQ(dec.decode(flipped, raw, &out), Errc::kHashMismatch,
                  "hash mismatch: BLAKE2b " + blake2b256(flipped).hex() + ", signed " + raw.hash.hex());
}

TEST(ChunkCodec, DecoderNeverProducesMoreThanTheSignedLength) {
  // A zstd frame of 128 KiB presented as a 64 KiB chunk: the signed length is the hard limit.
  auto big = pseudo_random(131072, 4, true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  ASSERT_EQ(enc.encode(big, &stored), Compression::kZstd);
  Chunk c{blake2b256(std::span(big).first(65536)), 65536, static_cast<std::uint32_t>(stored.size()),
          Compression::kZstd, {0}, std::nullopt};
  ChunkDecoder dec;
  EXPECT_ERROR_HAS(dec.decode(stored, c, &out), Errc::kCompression, "zstd: ");
  EXPECT_LE(out.size(), 65536u);
}

TEST(ChunkCodec, ShortFrameIsRejectedAsNotTheSignedLength) {
  auto small = pseudo_random(1000, 5, true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  ASSERT_EQ(enc.encode(small, &stored), Compression::kZstd);
  Chunk c{blake2b256(small), 65536, static_cast<std::uint32_t>(stored.size()), Compression::kZstd, {0}, std::nullopt};
  ChunkDecoder dec;
  EXPECT_ERROR_EQ(dec.decode(stored, c, &out), Errc::kCompression,
                  "decompressed to 1000 bytes, signed length is 65536");
}

// The decoder works one zstd block (<= 128 KiB) at a time, hashing each as it is produced.
Chunk zstd_entry(std::span<const std::uint8_t> data, const std::vector<std::uint8_t>& stored) {
  return Chunk{blake2b256(data), static_cast<std::uint32_t>(data.size()), static_cast<std::uint32_t>(stored.size()),
               Compression::kZstd, {0}, std::nullopt};
}

TEST(ChunkCodec, ManyBlockChunksDecodeBlockByBlockToTheSignedBytesWithOneDecoder) {
  ChunkEncoder enc(3);
  ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  for (std::uint32_t seed : {11u, 12u}) {  // the second chunk: the decoder starts afresh
    auto data = pseudo_random(std::size_t{1} << 20, seed, true);  // 8 zstd blocks or more
    std::vector<std::uint8_t> stored;
    ASSERT_EQ(enc.encode(data, &stored), Compression::kZstd);
    dec.decode(stored, zstd_entry(data, stored), &out);
    EXPECT_EQ(out, data) << seed;
  }
}

TEST(ChunkCodec, ConcatenatedFramesDecodeInTurnAndTrailingBytesAreRejected) {
  auto a = pseudo_random(200000, 13, true), b = pseudo_random(70000, 14, true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> sa, sb, out;
  enc.encode(a, &sa);
  enc.encode(b, &sb);
  std::vector<std::uint8_t> both = a, stored = sa;
  both.insert(both.end(), b.begin(), b.end());
  stored.insert(stored.end(), sb.begin(), sb.end());
  ChunkDecoder dec;
  dec.decode(stored, zstd_entry(both, stored), &out);
  EXPECT_EQ(out, both);
  sa.push_back(0x28);  // one byte of a next frame that is not there
  EXPECT_ERROR_EQ(dec.decode(sa, zstd_entry(a, sa), &out), Errc::kCompression,
                  "zstd: the stored bytes end inside a frame (signed length 200000)");
}

TEST(ChunkCodec, ZstdChunkOfOtherBytesIsAHashMismatch) {
  auto data = pseudo_random(300000, 15, true), other = data;
  other[299999] ^= 1;  // in the last block
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  enc.encode(other, &stored);
  ChunkDecoder dec;
  const Chunk c = zstd_entry(data, stored);
  EXPECT_ERROR_EQ(dec.decode(stored, c, &out), Errc::kHashMismatch,
                  "hash mismatch: BLAKE2b " + blake2b256(other).hex() + ", signed " + c.hash.hex());
}

TEST(ChunkCodec, DecodeCpuCountsTheThreadsTimeInZstdAndBlake2b) {
  auto data = pseudo_random(std::size_t{4} << 20, 16, true);
  ChunkEncoder enc(3);
  std::vector<std::uint8_t> stored, out;
  enc.encode(data, &stored);
  ChunkDecoder dec;
  DecodeCpu cpu;
  const std::uint64_t before = thread_cpu_ns();
  dec.decode(stored, zstd_entry(data, stored), &out, &cpu);
  const std::uint64_t spent = thread_cpu_ns() - before;
  EXPECT_GT(cpu.zstd.ns.load(), 0u);
  EXPECT_GT(cpu.blake2b.ns.load(), 0u);
  EXPECT_LE(cpu.zstd.ns.load() + cpu.blake2b.ns.load(), spent);
}

TEST(ChunkCodec, AllZeroDetectionLooksAtEveryByte) {
  std::vector<std::uint8_t> zeros(65536 + 7, 0);
  EXPECT_TRUE(is_all_zero(zeros));
  EXPECT_TRUE(is_all_zero({}));
  for (std::size_t pos : {0ul, 63ul, 64ul, 65535ul, 65542ul}) {
    auto z = zeros;
    z[pos] = 1;
    EXPECT_FALSE(is_all_zero(z)) << pos;
  }
}

}  // namespace
}  // namespace ironstone::manifest
