#include "examples/gen/catalog.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <stdexcept>

namespace aisle::gen {

double Rng::Normal() {
  // Box-Muller; 1 - Uniform() is in (0, 1], so the log is finite.
  const double u = 1.0 - Uniform();
  const double v = Uniform();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

int64_t Rng::Poisson(double mean) {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const double limit = std::exp(-mean);
    double product = Uniform();
    int64_t count = 0;
    while (product > limit) {
      ++count;
      product *= Uniform();
    }
    return count;
  }
  const double x = std::round(mean + std::sqrt(mean) * Normal());
  return x < 0 ? 0 : static_cast<int64_t>(x);
}

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  prob_.assign(n, 1.0);
  alias_.resize(n);
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> scaled(n);
  std::vector<int> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    alias_[i] = static_cast<int>(i);
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<int>(i));
  }
  while (!small.empty() && !large.empty()) {
    const int s = small.back();
    small.pop_back();
    const int l = large.back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
}

int AliasTable::Sample(Rng& rng) const {
  const uint64_t r = rng.Next();
  const auto i = static_cast<size_t>((r >> 32) % prob_.size());
  const double u = static_cast<double>(r & 0xffffffffULL) * 0x1.0p-32;
  return u < prob_[i] ? static_cast<int>(i) : alias_[i];
}

namespace {

struct CategorySpec {
  const char* name;
  const char* code;
  int count;
  double median_price;  // dollars
  double sigma;
  double weighed_share;
  bool food;
  double popularity_bias;  // added to the popularity score (lower = more popular)
  int lead_min, lead_max;
  std::vector<int> case_packs;
  std::vector<const char*> suppliers;
  std::vector<const char*> brands;
  std::vector<const char*> nouns;
};

const std::vector<CategorySpec>& CategorySpecs() {
  static const std::vector<CategorySpec> specs = {
      {"produce",
       "PRO",
       30,
       2.8,
       0.45,
       0.6,
       true,
       -0.9,
       2,
       3,
       {6, 10, 12},
       {"Valley Fresh Farms", "Green Acre Produce"},
       {"Organic", "Farmstand", "Sunny Valley"},
       {"Bananas",        "Gala Apples",     "Honeycrisp Apples",
        "Navel Oranges",  "Lemons",          "Limes",
        "Roma Tomatoes",  "Vine Tomatoes",   "Red Onions",
        "Yellow Onions",  "Russet Potatoes", "Sweet Potatoes",
        "Carrots",        "Broccoli",        "Cauliflower",
        "Red Peppers",    "Cucumbers",       "Zucchini",
        "Avocados",       "Bartlett Pears",  "Red Grapes",
        "Strawberries",   "Blueberries",     "Baby Spinach",
        "Romaine Hearts", "Mushrooms",       "Garlic",
        "Ginger"}},
      {"bakery",
       "BAK",
       18,
       4.0,
       0.35,
       0.0,
       true,
       -0.5,
       2,
       2,
       {6, 8, 12},
       {"Hearth & Crumb Bakery"},
       {"Hearth", "Golden Crust"},
       {"Sourdough Loaf", "Whole Wheat Bread", "Plain Bagels 6ct", "Butter Croissants 4ct",
        "Baguette", "Dinner Rolls 12ct", "Blueberry Muffins 4ct", "Cinnamon Rolls", "Rye Bread",
        "Brioche Buns", "Chocolate Chip Cookies", "Pita Bread", "Flour Tortillas",
        "English Muffins", "Banana Bread", "Apple Pie"}},
      {"dairy",
       "DAI",
       25,
       3.8,
       0.45,
       0.0,
       true,
       -0.6,
       2,
       4,
       {6, 12},
       {"Great Lakes Dairy", "Northfield Creamery"},
       {"Hillside", "Bluebell", "Northfield"},
       {"Whole Milk 1gal", "2% Milk Half Gallon", "Large Eggs 12ct", "Greek Yogurt",
        "Sharp Cheddar", "Mozzarella", "Salted Butter", "Cream Cheese", "Sour Cream", "Heavy Cream",
        "Cottage Cheese", "Oat Milk", "Almond Milk", "Parmesan Wedge", "Swiss Slices",
        "String Cheese", "Half and Half", "Feta Crumbles"}},
      {"pantry",
       "PAN",
       40,
       3.6,
       0.55,
       0.0,
       true,
       -0.1,
       3,
       7,
       {6, 12, 24},
       {"Pantry Partners", "Heartland Foods"},
       {"Harvest Table", "Good Pantry", "Casa Verde", "Simply"},
       {"Spaghetti",        "Penne",
        "Jasmine Rice",     "Extra Virgin Olive Oil",
        "Crushed Tomatoes", "Black Beans",
        "Peanut Butter",    "Wildflower Honey",
        "Honey Oat Cereal", "Rolled Oats",
        "Coffee Beans",     "Ground Coffee",
        "Green Tea 20ct",   "All-Purpose Flour",
        "Cane Sugar",       "Chunky Salsa",
        "Marinara Sauce",   "Chicken Noodle Soup",
        "Chunk Light Tuna", "Chickpeas",
        "Maple Syrup",      "Strawberry Jam",
        "Sea Salt",         "Black Pepper",
        "Chicken Broth"}},
      {"snacks",
       "SNK",
       30,
       3.3,
       0.4,
       0.0,
       false,
       -0.3,
       3,
       7,
       {12, 24},
       {"Crunch Co Distribution", "Heartland Foods"},
       {"Crunchwell", "Trailhead", "Sweet Spot"},
       {"Potato Chips", "Tortilla Chips", "Pretzel Twists", "Trail Mix", "Granola Bars 6ct",
        "Kettle Popcorn", "Wheat Crackers", "Dark Chocolate Bar", "Gummy Bears", "Roasted Almonds",
        "Salted Cashews", "Rice Cakes", "Beef Jerky", "Sandwich Cookies", "Pita Chips"}},
      {"beverages",
       "BEV",
       30,
       2.6,
       0.55,
       0.0,
       false,
       -0.5,
       3,
       7,
       {6, 12, 24},
       {"Bluewater Beverage", "Summit Drinks"},
       {"Bluewater", "Summit", "Brightside"},
       {"Sparkling Water 12pk", "Spring Water 24pk", "Cola 2L", "Orange Juice", "Apple Juice",
        "Cold Brew Coffee", "Ginger Kombucha", "Energy Drink", "Iced Tea", "Lemonade",
        "Sports Drink", "Coconut Water", "Root Beer 6pk", "Tonic Water", "Vanilla Oat Latte"}},
      {"household",
       "HOU",
       25,
       7.5,
       0.5,
       0.0,
       false,
       0.2,
       5,
       10,
       {4, 6, 12},
       {"CleanLine Supply", "HomeBasics Wholesale"},
       {"CleanLine", "HomeBasics", "EcoNest"},
       {"Paper Towels 6pk", "Toilet Paper 12pk", "Dish Soap", "Laundry Detergent",
        "Trash Bags 40ct", "Scrub Sponges", "All-Purpose Cleaner", "Aluminum Foil", "Plastic Wrap",
        "LED Bulbs 4pk", "AA Batteries 8pk", "Zip Bags", "Dishwasher Pods", "Glass Cleaner"}},
      {"personal_care",
       "PER",
       25,
       7.0,
       0.55,
       0.0,
       false,
       0.3,
       5,
       10,
       {6, 12},
       {"Wellspring Health", "CleanLine Supply"},
       {"Wellspring", "Pure Leaf", "Daily Care"},
       {"Shampoo", "Conditioner", "Mint Toothpaste", "Toothbrush 2pk", "Body Wash", "Deodorant",
        "Hand Soap", "Sunscreen SPF 30", "Lip Balm", "Razors 4ct", "Body Lotion", "Multivitamin",
        "Pain Reliever", "Cotton Swabs"}},
      {"home_kitchen",
       "HOM",
       20,
       19.0,
       0.55,
       0.0,
       false,
       1.8,
       7,
       14,
       {1, 2, 4, 6},
       {"Hearthware Imports"},
       {"Hearthware", "Oak & Iron"},
       {"Chef's Knife", "Cutting Board", "Mixing Bowls", "Cast Iron Skillet", "Saucepan",
        "Storage Containers", "French Press", "Dish Towels 3pk", "Soy Candle", "Picture Frame",
        "Throw Pillow", "Personal Blender", "2-Slice Toaster", "Electric Kettle"}},
      {"electronics",
       "ELE",
       15,
       29.0,
       0.8,
       0.0,
       false,
       2.4,
       7,
       14,
       {1, 2, 5},
       {"Voltline Distribution"},
       {"Voltline", "Amplo"},
       {"USB-C Cable", "Wall Charger", "Wireless Earbuds", "Bluetooth Speaker", "Power Bank",
        "HDMI Cable", "Phone Case", "Wireless Mouse", "Over-Ear Headphones", "Smart Plug",
        "Memory Card 128GB"}},
  };
  return specs;
}

// Shelf prices end in 9: $x.x9 below $10, $x.99 or $x.49 above.
int64_t ShelfPrice(double dollars, Rng& rng) {
  dollars = std::clamp(dollars, 0.99, 149.99);
  if (dollars < 10) {
    return std::max<int64_t>(99, static_cast<int64_t>(std::llround(dollars * 10)) * 10 - 1);
  }
  const auto whole = static_cast<int64_t>(std::llround(dollars));
  return rng.Chance(0.7) ? whole * 100 - 1 : whole * 100 - 51;
}

}  // namespace

Catalog BuildCatalog(Rng& rng) {
  Catalog catalog;
  const auto& specs = CategorySpecs();
  std::vector<double> score;
  for (size_t c = 0; c < specs.size(); ++c) {
    const CategorySpec& spec = specs[c];
    catalog.categories.emplace_back(spec.name);
    catalog.members.emplace_back();
    std::vector<const char*> nouns = spec.nouns;
    for (size_t i = nouns.size(); i > 1; --i)
      std::swap(nouns[i - 1], nouns[rng.Int(0, static_cast<int64_t>(i) - 1)]);
    std::vector<int> supplier_lead;
    for (size_t s = 0; s < spec.suppliers.size(); ++s)
      supplier_lead.push_back(static_cast<int>(rng.Int(spec.lead_min, spec.lead_max)));
    std::set<std::string> names;
    for (int i = 0; i < spec.count; ++i) {
      Product p;
      p.category = static_cast<int>(c);
      p.sku = fmt::format("{}-{:04}", spec.code, i + 1);
      const char* noun = nouns[static_cast<size_t>(i) % nouns.size()];
      const size_t round = static_cast<size_t>(i) / nouns.size();
      // The first round of a category is unbranded where that reads naturally (produce, bakery).
      std::string name = (round == 0 && (c == 0 || c == 1))
                             ? std::string(noun)
                             : fmt::format("{} {}", spec.brands[round % spec.brands.size()], noun);
      while (!names.insert(name).second) name += " XL";
      p.name = std::move(name);
      const size_t supplier =
          static_cast<size_t>(rng.Int(0, static_cast<int64_t>(spec.suppliers.size()) - 1));
      p.supplier = spec.suppliers[supplier];
      p.lead_days = supplier_lead[supplier];
      p.food = spec.food;
      p.weighed = rng.Chance(spec.weighed_share);
      const double dollars = spec.median_price * std::exp(spec.sigma * rng.Normal());
      if (p.weighed) {
        p.price = std::clamp<int64_t>(std::llround(dollars / 0.4) * 40, 80, 1600);
        p.case_pack = static_cast<int>(rng.Int(5, 12));
      } else {
        p.price = ShelfPrice(dollars, rng);
        p.case_pack = spec.case_packs[static_cast<size_t>(
            rng.Int(0, static_cast<int64_t>(spec.case_packs.size()) - 1))];
      }
      p.unit_cost = std::llround(static_cast<double>(p.price) * rng.Uniform(0.40, 0.75));
      score.push_back(std::log(static_cast<double>(p.price)) * 0.9 + spec.popularity_bias +
                      0.9 * rng.Normal());
      catalog.members.back().push_back(static_cast<int>(catalog.products.size()));
      catalog.products.push_back(std::move(p));
    }
  }
  const size_t n = catalog.products.size();
  catalog.by_rank.resize(n);
  for (size_t i = 0; i < n; ++i) catalog.by_rank[i] = static_cast<int>(i);
  std::stable_sort(catalog.by_rank.begin(), catalog.by_rank.end(), [&](int a, int b) {
    return score[static_cast<size_t>(a)] < score[static_cast<size_t>(b)];
  });
  std::vector<double> weight(n);
  double total = 0;
  for (size_t r = 0; r < n; ++r) {
    const auto i = static_cast<size_t>(catalog.by_rank[r]);
    catalog.products[i].rank = static_cast<int>(r);
    weight[i] = std::pow(static_cast<double>(r) + 1.0, -0.95);
    total += weight[i];
  }
  for (size_t i = 0; i < n; ++i) catalog.products[i].share = weight[i] / total;
  catalog.popularity = AliasTable(weight);
  for (const auto& members : catalog.members) {
    std::vector<double> w;
    for (int i : members) w.push_back(weight[static_cast<size_t>(i)]);
    catalog.within_category.emplace_back(w);
  }
  return catalog;
}

namespace {

struct DistrictSpec {
  const char* name;
  const char* region;
  int tax_bp;
  int food_tax_bp;
  std::vector<std::pair<const char*, const char*>> cities;  // city, IANA zone
};

const std::vector<DistrictSpec>& DistrictSpecs() {
  static const std::vector<DistrictSpec> specs = {
      {"north-east",
       "east",
       625,
       0,
       {{"Boston", "America/New_York"},
        {"Hartford", "America/New_York"},
        {"Providence", "America/New_York"},
        {"Albany", "America/New_York"},
        {"Portland ME", "America/New_York"}}},
      {"south-east",
       "east",
       700,
       200,
       {{"Atlanta", "America/New_York"},
        {"Charlotte", "America/New_York"},
        {"Raleigh", "America/New_York"},
        {"Orlando", "America/New_York"},
        {"Tampa", "America/New_York"}}},
      {"midwest",
       "central",
       800,
       100,
       {{"Chicago", "America/Chicago"},
        {"Milwaukee", "America/Chicago"},
        {"Minneapolis", "America/Chicago"},
        {"St. Louis", "America/Chicago"},
        {"Kansas City", "America/Chicago"}}},
      {"mountain",
       "west",
       790,
       0,
       {{"Denver", "America/Denver"},
        {"Boulder", "America/Denver"},
        {"Salt Lake City", "America/Denver"},
        {"Phoenix", "America/Phoenix"},
        {"Tucson", "America/Phoenix"}}},
      {"west",
       "west",
       875,
       0,
       {{"Seattle", "America/Los_Angeles"},
        {"Portland", "America/Los_Angeles"},
        {"San Diego", "America/Los_Angeles"},
        {"Sacramento", "America/Los_Angeles"},
        {"Oakland", "America/Los_Angeles"}}},
  };
  return specs;
}

constexpr std::array<const char*, 8> kSiteNames = {"Downtown", "Crossing", "Plaza",   "Market",
                                                   "Commons",  "Heights",  "Station", "Square"};
constexpr std::array<const char*, 4> kSources = {"shopify", "square", "lightspeed", "clover"};

template <typename T>
const T& Pick(const std::vector<T>& items, Rng& rng) {
  return items[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(items.size()) - 1))];
}

int64_t Wage(Rng& rng, int64_t lo, int64_t hi) {
  return rng.Int(lo / 25, hi / 25) * 25;
}

}  // namespace

std::vector<StoreInfo> BuildStores(int count, Rng& rng) {
  const auto& specs = DistrictSpecs();
  std::vector<size_t> districts(specs.size());
  for (size_t i = 0; i < districts.size(); ++i) districts[i] = i;
  for (size_t i = districts.size(); i > 1; --i)
    std::swap(districts[i - 1],
              districts[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(i) - 1))]);
  const size_t used = static_cast<size_t>(std::clamp((count + 3) / 4, 3, 5));
  districts.resize(used);
  std::sort(districts.begin(), districts.end());

  std::vector<StoreInfo> stores;
  std::set<std::string> names;
  for (int i = 0; i < count; ++i) {
    StoreInfo s;
    s.id = fmt::format("S{:03}", i + 1);
    const DistrictSpec& d =
        specs[static_cast<size_t>(i) < used
                  ? districts[static_cast<size_t>(i)]
                  : districts[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(used) - 1))]];
    s.district = d.name;
    s.region = d.region;
    const auto& [city, zone] = Pick(d.cities, rng);
    std::string name;
    for (int tries = 0;; ++tries) {
      const char* site = kSiteNames[static_cast<size_t>(rng.Int(0, kSiteNames.size() - 1))];
      // Past a few collisions (many stores in one district), the store number keeps names unique.
      name =
          tries < 8 ? fmt::format("{} {}", city, site) : fmt::format("{} {} {}", city, site, i + 1);
      if (names.insert(name).second) break;
    }
    s.name = std::move(name);
    s.timezone = zone;
    s.zone = date::locate_zone(zone);
    s.source = kSources[static_cast<size_t>(rng.Int(0, kSources.size() - 1))];
    s.tax_bp = d.tax_bp + static_cast<int>(rng.Int(0, 3)) * 25;
    s.food_tax_bp = d.food_tax_bp;

    const int weekday_open = static_cast<int>(rng.Int(7, 9));
    const int weekday_close = static_cast<int>(rng.Int(20, 22));
    const DayHours weekday{weekday_open, weekday_close};
    const DayHours saturday =
        rng.Chance(0.5) ? weekday
                        : DayHours{std::max(8, weekday_open), std::min(21, weekday_close)};
    const DayHours sunday = rng.Chance(0.15) ? DayHours{}
                                             : DayHours{static_cast<int>(rng.Int(10, 11)),
                                                        static_cast<int>(rng.Int(17, 19))};
    for (int wd = 1; wd <= 5; ++wd) s.hours[static_cast<size_t>(wd)] = weekday;
    s.hours[6] = saturday;
    s.hours[0] = sunday;

    s.size = std::clamp(std::exp(0.35 * rng.Normal()), 0.5, 2.0);
    s.growth = rng.Uniform(-0.06, 0.15);
    s.conversion = rng.Uniform(0.22, 0.32);
    s.registers = s.size < 0.8 ? 2 : s.size < 1.4 ? 3 : 4;
    s.customers = static_cast<int>(2500 * s.size);
    s.key = rng.Next();

    auto add = [&](Role role, int64_t wage) {
      s.staff.push_back({fmt::format("{}-E{:02}", s.id, s.staff.size() + 1), role, wage});
      auto& list = role == Role::kCashier   ? s.cashiers
                   : role == Role::kManager ? s.managers
                                            : s.stockers;
      list.push_back(static_cast<int>(s.staff.size()) - 1);
    };
    for (int m = 0; m < 3; ++m) add(Role::kManager, Wage(rng, 2200, 2900));
    const int cashiers = (s.registers * 2 * 7 + 4) / 5 + 1;
    for (int c = 0; c < cashiers; ++c) add(Role::kCashier, Wage(rng, 1400, 1750));
    for (int k = 0; k < 2; ++k) add(Role::kStock, Wage(rng, 1500, 1800));
    stores.push_back(std::move(s));
  }
  std::vector<size_t> order(stores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(i) - 1))]);
  const size_t late = std::min<size_t>(stores.size(), static_cast<size_t>(rng.Int(2, 3)));
  for (size_t i = 0; i < late; ++i) stores[order[i]].late_register = stores[order[i]].registers - 1;
  return stores;
}

std::string OpenHoursText(const std::array<DayHours, 7>& hours) {
  static constexpr std::array<const char*, 7> kNames = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
  static constexpr std::array<int, 7> kOrder = {1, 2, 3, 4, 5, 6, 0};
  std::string text;
  size_t i = 0;
  while (i < kOrder.size()) {
    size_t j = i;
    while (j + 1 < kOrder.size() &&
           hours[static_cast<size_t>(kOrder[j + 1])] == hours[static_cast<size_t>(kOrder[i])])
      ++j;
    const DayHours& h = hours[static_cast<size_t>(kOrder[i])];
    if (!text.empty()) text += "; ";
    text += kNames[static_cast<size_t>(kOrder[i])];
    if (j > i) text += fmt::format("-{}", kNames[static_cast<size_t>(kOrder[j])]);
    text += h.Closed() ? std::string(" closed")
                       : fmt::format(" {:02}:00-{:02}:00", h.open_hour, h.close_hour);
    i = j + 1;
  }
  return text;
}

namespace {

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string MoneyText(int64_t cents) {
  return fmt::format("{}.{:02}", cents / 100, cents % 100);
}

}  // namespace

std::string StoresCsv(const std::vector<StoreInfo>& stores) {
  std::string out = "store,name,district,region,timezone,open_hours,currency\n";
  for (const StoreInfo& s : stores) {
    out += fmt::format("{},{},{},{},{},{},{}\n", s.id, CsvField(s.name), s.district, s.region,
                       s.timezone, CsvField(OpenHoursText(s.hours)), s.currency);
  }
  return out;
}

std::string ProductsCsv(const Catalog& catalog) {
  std::string out = "sku,name,category,unit_cost,price,supplier,lead_days,case_pack\n";
  for (const Product& p : catalog.products) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", p.sku, CsvField(p.name),
                       catalog.categories[static_cast<size_t>(p.category)], MoneyText(p.unit_cost),
                       MoneyText(p.price), CsvField(p.supplier), p.lead_days, p.case_pack);
  }
  return out;
}

int64_t LocalToUtc(const date::time_zone* zone, date::local_days day, int minutes) {
  const date::local_seconds local = day + std::chrono::minutes(minutes);
  return zone->to_sys(local, date::choose::earliest).time_since_epoch().count();
}

void AppendTimestamp(fmt::memory_buffer& out, int64_t utc_seconds) {
  // Civil-from-days (H. Hinnant), then fixed-width digits.
  int64_t days = utc_seconds >= 0 ? utc_seconds / 86400 : (utc_seconds - 86399) / 86400;
  int64_t secs = utc_seconds - days * 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char text[20];
  auto put = [&text](int at, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      text[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  text[4] = '-';
  put(5, month, 2);
  text[7] = '-';
  put(8, day, 2);
  text[10] = 'T';
  put(11, secs / 3600, 2);
  text[13] = ':';
  put(14, secs / 60 % 60, 2);
  text[16] = ':';
  put(17, secs % 60, 2);
  text[19] = 'Z';
  out.append(text, text + 20);
}

std::string TimestampText(int64_t utc_seconds) {
  fmt::memory_buffer out;
  AppendTimestamp(out, utc_seconds);
  return fmt::to_string(out);
}

void AppendMoney(fmt::memory_buffer& out, int64_t cents) {
  const bool negative = cents < 0;
  const int64_t abs = negative ? -cents : cents;
  fmt::format_to(fmt::appender(out), "\"{}{}.{:02}\"", negative ? "-" : "", abs / 100, abs % 100);
}

void AppendMilli(fmt::memory_buffer& out, int64_t thousandths) {
  const bool negative = thousandths < 0;
  int64_t abs = negative ? -thousandths : thousandths;
  if (negative) out.push_back('-');
  fmt::format_to(fmt::appender(out), "{}", abs / 1000);
  int64_t frac = abs % 1000;
  if (frac == 0) return;
  int digits = 3;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  fmt::format_to(fmt::appender(out), ".{:0{}}", frac, digits);
}

}  // namespace aisle::gen
