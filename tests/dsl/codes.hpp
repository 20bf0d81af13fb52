#pragma once
// Every diagnostic code the checker can emit: docs/diagnostics.md must document each
// (docs_test.cpp), each must have a golden case (golden_test.cpp), and the sources of dsl/ must
// emit exactly these (golden_test.cpp reads them). Add a code here when you add one to dsl/.

#include <set>
#include <string>

namespace aisle::testing {

inline const std::set<std::string>& DiagnosticCodes() {
  static const std::set<std::string> codes = {
      "E001", "E002", "E004", "E005", "E006", "E010", "E011", "E012", "E014", "E020", "E021",
      "E022", "E023", "E024", "E025", "E026", "E027", "E028", "E029", "E030", "E031", "E040",
      "E041", "E042", "E044", "E045", "E050", "E060", "E061", "E062", "E063", "E064", "E065",
      "E066", "E067", "E070", "E071", "E072", "E073", "E074", "E075", "E076", "E077", "E080", "E081", "E082", "E083", "E084", "E085",
      "E086", "E087", "E088", "E090", "E091", "E092", "E093", "E094", "E095", "E096", "E097", "E098", "E100", "E101", "E102", "E103", "E104", "E105", "E106", "E107", "E108", "E109", "E110",
      "E111", "E112", "E113",
      "W001", "W002", "W010", "W011", "W020", "W030"};
  return codes;
}

}  // namespace aisle::testing
