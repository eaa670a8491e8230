// Test doubles at the efivars edge (boards/efi_vars.h). The store itself is the real
// EfivarfsVariables over an efivarfs-shaped directory under a temp root; these wrap it to
// count what is written, or to act like firmware that drops a SetVariable.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "boards/efi_vars.h"

namespace ironstone::boards::testing {

// Forwards to a real store and records the names written, in order.
class RecordingVariables : public EfiVariables {
 public:
  RecordingVariables(std::unique_ptr<EfiVariables> inner, std::vector<std::string>* writes)
      : inner_(std::move(inner)), writes_(writes) {}
  std::optional<EfiVariable> read(std::string_view name) override { return inner_->read(name); }
  void write(std::string_view name, const EfiVariable& v) override {
    writes_->emplace_back(name);
    inner_->write(name, v);
  }
  std::vector<std::string> names() override { return inner_->names(); }
  std::string where() const override { return inner_->where(); }

 private:
  std::unique_ptr<EfiVariables> inner_;
  std::vector<std::string>* writes_;
};

// Firmware that accepts a SetVariable for `dropped` names without storing it (seen on real
// boards whose NVRAM is full or write-protected): the write "succeeds", the read-back differs.
class DroppingVariables : public EfiVariables {
 public:
  DroppingVariables(std::unique_ptr<EfiVariables> inner, std::set<std::string> dropped)
      : inner_(std::move(inner)), dropped_(std::move(dropped)) {}
  std::optional<EfiVariable> read(std::string_view name) override { return inner_->read(name); }
  void write(std::string_view name, const EfiVariable& v) override {
    if (!dropped_.count(std::string(name))) inner_->write(name, v);
  }
  std::vector<std::string> names() override { return inner_->names(); }
  std::string where() const override { return inner_->where(); }

 private:
  std::unique_ptr<EfiVariables> inner_;
  std::set<std::string> dropped_;
};

}  // namespace ironstone::boards::testing
