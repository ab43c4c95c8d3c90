// Gate work of one row (one member, one trial) of a GRU or LSTM step; see gates.h.
#include "gates.h"

#include <cmath>

namespace rnnzoo_gates {

template <class T>
static inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// x = [x_r, x_z, x_n] (input drive with b_i, and b_h for r and z), hh = W_h h_prev (3n)
// saved = [r, z, n, hn] with hn = W_hn h_prev + b_hn; h = (1 - z) n + z h_prev
template <class T>
void gru_forward_row(const T* x, const T* hh, const T* bhn, const T* h_prev, T* h, T* saved,
                     int64_t n) {
  T *r = saved, *z = saved + n, *nn = saved + 2 * n, *hn = saved + 3 * n;
  for (int64_t k = 0; k < 2 * n; ++k) r[k] = sigmoid(x[k] + hh[k]);  // r and z
  for (int64_t k = 0; k < n; ++k) {
    hn[k] = hh[2 * n + k] + bhn[k];
    nn[k] = std::tanh(x[2 * n + k] + r[k] * hn[k]);
    h[k] = nn[k] + z[k] * (h_prev[k] - nn[k]);
  }
}

// dh: dL/dh in, dL/dh_prev through z out; d = [dr_pre, dz_pre, dhn, dn_pre]
template <class T>
void gru_backward_row(T* dh, const T* saved, const T* h_prev, T* d, int64_t n) {
  const T *r = saved, *z = saved + n, *nn = saved + 2 * n, *hn = saved + 3 * n;
  for (int64_t k = 0; k < n; ++k) {
    const T g = dh[k];
    const T dn = g * (T(1) - z[k]) * (T(1) - nn[k] * nn[k]);
    d[3 * n + k] = dn;
    d[2 * n + k] = dn * r[k];
    d[k] = dn * hn[k] * r[k] * (T(1) - r[k]);
    d[n + k] = g * (h_prev[k] - nn[k]) * z[k] * (T(1) - z[k]);
    dh[k] = g * z[k];
  }
}

// gates: pre-activations [i, f, g, o] in, activations out; c = f c_prev + i g, h = o tanh(c)
template <class T>
void lstm_forward_row(T* gates, const T* c_prev, T* c, T* tc, T* h, int64_t n) {
  T *i = gates, *f = gates + n, *g = gates + 2 * n, *o = gates + 3 * n;
  for (int64_t k = 0; k < 2 * n; ++k) i[k] = sigmoid(i[k]);  // i and f
  for (int64_t k = 0; k < n; ++k) g[k] = std::tanh(g[k]);
  for (int64_t k = 0; k < n; ++k) o[k] = sigmoid(o[k]);
  for (int64_t k = 0; k < n; ++k) {
    c[k] = f[k] * c_prev[k] + i[k] * g[k];
    tc[k] = std::tanh(c[k]);
    h[k] = o[k] * tc[k];
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
  template void gru_forward_row<T>(const T*, const T*, const T*, const T*, T*, T*, int64_t);   \
  template void gru_backward_row<T>(T*, const T*, const T*, T*, int64_t);                      \
  template void lstm_forward_row<T>(T*, const T*, T*, T*, T*, int64_t);                        \
  template void lstm_backward_row<T>(const T*, T*, const T*, const T*, const T*, T*, int64_t);
RNNZOO_INSTANTIATE(float)
RNNZOO_INSTANTIATE(double)

}  // namespace rnnzoo_gates
