#include "engine/registry/registry.hpp"

namespace aisle::engine {

bool OperatorRegistry::Register(FunctionDescriptor descriptor) {
  if (Find(descriptor.spec.name) >= 0) return false;
  functions_.push_back(std::move(descriptor));
  return true;
}

int OperatorRegistry::Find(std::string_view name) const {
  for (size_t i = 0; i < functions_.size(); ++i)
    if (functions_[i].spec.name == name) return static_cast<int>(i);
  return -1;
}

const dsl::FunctionSpec& OperatorRegistry::Spec(int index) const {
  return functions_[static_cast<size_t>(index)].spec;
}

std::vector<std::string_view> OperatorRegistry::Names(dsl::FunctionKind kind) const {
  std::vector<std::string_view> out;
  for (const auto& f : functions_)
    if (f.spec.kind == kind) out.push_back(f.spec.name);
  return out;
}

}  // namespace aisle::engine
