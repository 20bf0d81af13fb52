// Typed reference tables for lookup(): each column type read from CSV text, empty cells null,
// money with the row's currency, keys found by text or by an int's digits, and what is reported.

#include <catch2/catch.hpp>

#include "dsl/csv.hpp"
#include "dsl/lookup_table.hpp"
#include "dsl/value.hpp"

using aisle::dsl::CsvTable;
using aisle::dsl::LookupTable;
using aisle::dsl::PackCurrency;
using aisle::dsl::Type;
using aisle::dsl::Value;

namespace {

CsvTable Csv(const std::string& text) {
  CsvTable csv;
  std::string error;
  REQUIRE(aisle::dsl::ParseCsv(text, csv, error));
  return csv;
}

}  // namespace

TEST_CASE("a table's cells read as their columns' types", "[dsl][lookup]") {
  const CsvTable csv = Csv(
      "code,name,cost,share,days,weight,fresh,currency\n"
      "7,Apple,1.25,15%,3,0.5,true,EUR\n"
      "8,Bread,,0.2,, 2 ,false,\n");
  std::vector<LookupTable::BadCell> bad;
  std::vector<LookupTable::DuplicateKey> duplicates;
  auto t = LookupTable::Build(csv,
                              {Type::kString, Type::kString, Type::kMoney, Type::kPercent,
                               Type::kInt, Type::kDecimal, Type::kBool, Type::kString},
                              0, bad, duplicates);
  CHECK(bad.empty());
  CHECK(duplicates.empty());
  CHECK(t->has_currency());
  REQUIRE(t->rows() == 2);
  // An int key is matched by its digits; a string key by its text.
  CHECK(t->Find(Value::Int(8)) == 1);
  CHECK(t->Find(Value::String("7")) == 0);
  CHECK(t->Find(Value::String("9")) == -1);
  CHECK(t->Find(Value::Null()) == -1);
  CHECK(t->Find(Value::Decimal(7.0)) == -1);

  CHECK(t->Cell(0, 1).str() == "Apple");
  const Value cost = t->Cell(0, 2);
  CHECK(cost.type == Type::kMoney);
  CHECK(cost.i == 12'500);  // 1.25 in 1/10,000
  CHECK(cost.currency == PackCurrency("EUR"));
  CHECK(t->Cell(0, 3).d == Approx(0.15));  // "15%"
  CHECK(t->Cell(1, 3).d == Approx(0.2));   // the fraction "0.2"
  CHECK(t->Cell(0, 4).i == 3);
  CHECK(t->Cell(1, 5).d == Approx(2.0));   // blanks around a number are ignored
  CHECK(t->Cell(0, 6).b);
  CHECK_FALSE(t->Cell(1, 6).b);
  // Empty cells are null, whatever the type.
  CHECK(t->Cell(1, 2).is_null());
  CHECK(t->Cell(1, 4).is_null());
}

TEST_CASE("the first bad cell of each column and every repeated key are reported", "[dsl][lookup]") {
  const CsvTable csv = Csv(
      "sku,cost,days,currency\n"
      "A,1.00,x,USD\n"
      "B,abc,y,US\n"
      "A,2.00,3,USD\n");
  std::vector<LookupTable::BadCell> bad;
  std::vector<LookupTable::DuplicateKey> duplicates;
  auto t = LookupTable::Build(csv, {Type::kString, Type::kMoney, Type::kInt, Type::kString}, 0,
                              bad, duplicates);
  REQUIRE(bad.size() == 3);
  CHECK(bad[0].line == 2);
  CHECK(bad[0].column == "days");
  CHECK(bad[0].text == "x");
  CHECK(bad[1].line == 3);
  CHECK(bad[1].column == "currency");  // a money row needs a currency code it can read
  CHECK(bad[2].line == 3);
  CHECK(bad[2].column == "cost");
  REQUIRE(duplicates.size() == 1);
  CHECK(duplicates[0].key == "A");
  CHECK(duplicates[0].first_line == 2);
  CHECK(duplicates[0].line == 4);
  CHECK(t->Find(Value::String("A")) == 0);  // the first row wins
}
