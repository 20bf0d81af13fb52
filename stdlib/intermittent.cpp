// Intermittent demand (many zero periods): Croston (1972), the Syntetos-Boylan approximation
// (2005) and Teunter-Syntetos-Babai (2011).
//
// Initialisation (the usual one, e.g. Syntetos & Boylan 2005): nothing is known before the first
// demand (forecast 0); at the first demand, at 1-based period i, the demand size is that demand,
// the inter-demand interval is i and TSB's demand probability is 1 / i.
// Croston/SBA: at each later demand, size += alpha (demand - size) and interval += alpha (periods
// since the previous demand - interval); forecast size / interval, times (1 - alpha / 2) for SBA
// (Croston's ratio is biased upwards by about that factor).
// TSB: every period, prob += beta ([demand > 0] - prob); at a demand, size += alpha (demand -
// size); forecast prob x size. Unlike Croston it decays while no demand comes (obsolescence).

#include <cmath>

#include "stdlib/forecast_internal.hpp"

namespace aisle::stdlib::forecast_detail {

double IntermittentModel::Level() const {
  if (!started) return 0;
  switch (method) {
    case Method::kTsb:
      return prob * size;
    case Method::kSba:
      return (1 - alpha / 2) * size / interval;
    default:
      return size / interval;
  }
}

void IntermittentModel::Update(double y) {
  ++since;
  if (!started) {
    if (y > 0) {
      started = true;
      size = y;
      interval = static_cast<double>(since);
      prob = 1.0 / static_cast<double>(since);
      since = 0;
    }
    return;
  }
  prob += beta * ((y > 0 ? 1.0 : 0.0) - prob);
  if (y > 0) {
    size += alpha * (y - size);
    interval += alpha * (static_cast<double>(since) - interval);
    since = 0;
  }
}

IntermittentModel FitIntermittent(std::span<const double> y, Method method, double alpha,
                                  double beta, std::vector<double>* residuals) {
  IntermittentModel model;
  model.method = method;
  model.alpha = alpha;
  model.beta = beta;
  if (residuals != nullptr) residuals->clear();
  double sum_e2 = 0;
  int count = 0;
  for (double v : y) {
    const double f = model.Level();
    if (residuals != nullptr) residuals->push_back(v - f);
    if (model.started) sum_e2 += (v - f) * (v - f), ++count;
    model.Update(v);
  }
  model.sigma2 = count > 0 ? sum_e2 / count : 0.0;
  return model;
}

}  // namespace aisle::stdlib::forecast_detail
