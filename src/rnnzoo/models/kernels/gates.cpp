// Backward gate work of one row (one member, one trial) of a GRU or LSTM step; see gates.h.
#include "gates.h"

namespace rnnzoo_gates {

// dh: dL/dh in, dL/dh_prev through z out; d = [dr_pre, dz_pre, dhn] (the recurrent matmul's
// operand), dx = [dr_pre, dz_pre, dn_pre] (the drive's gradient)
template <class T>
void gru_backward_row(T* dh, const T* saved, const T* h_prev, T* d, T* dx, int64_t n) {
  const T *r = saved, *z = saved + n, *nn = saved + 2 * n, *hn = saved + 3 * n;
  for (int64_t k = 0; k < n; ++k) {
    const T g = dh[k];
    const T dn = g * (T(1) - z[k]) * (T(1) - nn[k] * nn[k]);
    const T dr = dn * hn[k] * r[k] * (T(1) - r[k]);
    const T dz = g * (h_prev[k] - nn[k]) * z[k] * (T(1) - z[k]);
    d[k] = dx[k] = dr;
    d[n + k] = dx[n + k] = dz;
    d[2 * n + k] = dn * r[k];
    dx[2 * n + k] = dn;
    dh[k] = g * z[k];
  }
}

// dh = dL/dh, dc = dL/dc in (dL/dc_prev out); d = gradients of the pre-activations
template <class T>
void lstm_backward_row(const T* dh, T* dc, const T* gates, const T* c_prev, const T* tc, T* d,
                       int64_t n) {
  const T *i = gates, *f = gates + n, *g = gates + 2 * n, *o = gates + 3 * n;
  for (int64_t k = 0; k < n; ++k) {
    const T total = dc[k] + dh[k] * o[k] * (T(1) - tc[k] * tc[k]);
    d[k] = total * g[k] * i[k] * (T(1) - i[k]);
    d[n + k] = total * c_prev[k] * f[k] * (T(1) - f[k]);
    d[2 * n + k] = total * i[k] * (T(1) - g[k] * g[k]);
    d[3 * n + k] = dh[k] * tc[k] * o[k] * (T(1) - o[k]);
    dc[k] = total * f[k];
  }
}

#define RNNZOO_INSTANTIATE(T)                                                                  \
  template void gru_backward_row<T>(T*, const T*, const T*, T*, T*, int64_t);                   \
  template void lstm_backward_row<T>(const T*, T*, const T*, const T*, const T*, T*, int64_t);
RNNZOO_INSTANTIATE(float)
RNNZOO_INSTANTIATE(double)

}  // namespace rnnzoo_gates
