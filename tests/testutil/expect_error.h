// Assertions on ironstone::Error, shared by the test suites (header only; the test
// binaries link GoogleMock).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

// `statement` must throw ironstone::Error with `errc` (any module's Errc) and a message
// that `matcher` accepts; `text` is what a failure says was expected.
#define EXPECT_ERROR_THAT(statement, errc, text, matcher)       \
  do {                                                          \
    try {                                                       \
      statement;                                                \
      ADD_FAILURE() << "no error thrown, expected: " << (text); \
    } catch (const ::ironstone::Error& e) {                     \
      EXPECT_EQ(e.code(), make_error_code(errc)) << e.what();   \
      EXPECT_THAT(std::string(e.what()), matcher);              \
    }                                                           \
  } while (0)

// The message must be exactly `text`.
#define EXPECT_ERROR_EQ(statement, errc, text) \
  EXPECT_ERROR_THAT(statement, errc, text, ::testing::Eq(std::string(text)))

// The message only has to contain `text`.
#define EXPECT_ERROR_HAS(statement, errc, text) \
  EXPECT_ERROR_THAT(statement, errc, text, ::testing::HasSubstr(text))
