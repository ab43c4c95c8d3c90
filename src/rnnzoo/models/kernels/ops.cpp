// rnnzoo's fused CPU kernels, registered as torch ops in the namespace rnnzoo_fused.
//
// leaky_forward / leaky_backward run the whole time loop of the fused leaky core (models/core.py
// holds the PyTorch reference of the same loops and the buffer layouts): per step one matmul
// through ATen, then ONE pass over the (members, B, N) block that does the activation, the
// leaky update, the derivative gating and the readout's gradient.  Members are processed in
// chunks (`chunk` members at a time, all T steps) so that a step's working set stays in cache.
//
// gru_backward_step / lstm_backward_step do one step's backward gate work in one pass (rows in
// gates.cpp).
//
// Shapes: M members, T steps, B trials, N units, O outputs, W = N + I + 1 (activity rows
// [r, u, 1]); every tensor's last dimension is contiguous, other strides are arbitrary.

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "gates.h"

namespace {

using at::Tensor;

enum Activation : int64_t { RELU = 0, TANH = 1, SOFTPLUS = 2, SIGMOID = 3, PRELU = 4 };

template <int A, class T>
inline T activate(T z, T slope) {
  if constexpr (A == RELU) return z < T(0) ? T(0) : z;  // NaN passes through
  else if constexpr (A == TANH) return std::tanh(z);
  else if constexpr (A == SOFTPLUS) return z > T(20) ? z : std::log1p(std::exp(z));
  else if constexpr (A == SIGMOID) return T(1) / (T(1) + std::exp(-z));
  else return z > T(0) ? z : z * slope;
}

// f'(z) from phi = f(z) alone (the core stores f(z), not z)
template <int A, class T>
inline T slope_from_output(T phi, T slope) {
  if constexpr (A == RELU) return phi > T(0) ? T(1) : T(0);
  else if constexpr (A == TANH) return T(1) - phi * phi;
  else if constexpr (A == SOFTPLUS) return -std::expm1(-phi);
  else if constexpr (A == SIGMOID) return phi - phi * phi;
  else return phi > T(0) ? T(1) : slope;
}

template <class F>
void with_activation(int64_t code, F&& f) {
  switch (code) {
    case RELU: f(std::integral_constant<int, RELU>{}); break;
    case TANH: f(std::integral_constant<int, TANH>{}); break;
    case SOFTPLUS: f(std::integral_constant<int, SOFTPLUS>{}); break;
    case SIGMOID: f(std::integral_constant<int, SIGMOID>{}); break;
    case PRELU: f(std::integral_constant<int, PRELU>{}); break;
    default: TORCH_CHECK(false, "rnnzoo_fused: unknown activation code ", code);
  }
}

// (M, T, B, K) sequence addressed by raw pointer; row(m, t, b) points at element [m, t, b, 0]
template <class T>
struct Seq {
  T* p = nullptr;
  int64_t sm = 0, st = 0, sb = 0;
  Seq() = default;
  explicit Seq(const Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.stride(3) == 1, "rnnzoo_fused: need a 4-D tensor with a "
                "contiguous last dimension; got sizes ", x.sizes(), " strides ", x.strides());
    p = x.data_ptr<T>();
    sm = x.stride(0);
    st = x.stride(1);
    sb = x.stride(2);
  }
  T* row(int64_t m, int64_t t, int64_t b) const { return p + m * sm + t * st + b * sb; }
};

// (M, B, K) block
template <class T>
struct Blk {
  T* p = nullptr;
  int64_t sm = 0, sb = 0;
  Blk() = default;
  explicit Blk(const Tensor& x) {
    TORCH_CHECK(x.dim() == 3 && x.stride(2) == 1, "rnnzoo_fused: need a 3-D tensor with a "
                "contiguous last dimension; got sizes ", x.sizes(), " strides ", x.strides());
    p = x.data_ptr<T>();
    sm = x.stride(0);
    sb = x.stride(1);
  }
  T* row(int64_t m, int64_t b) const { return p + m * sm + b * sb; }
};

Tensor last_contiguous(const Tensor& x) { return x.stride(-1) == 1 ? x : x.contiguous(); }

// out (mc, B, N) = drive of one step from the activity rows a (mc, B, W)
// dense: weights = [W_aug^T (M, W, N)]; low rank: [n (M, N, R), (m / N)^T (M, R, N),
// [W_in, b]^T (M, I + 1, N)]
void drive_into(Tensor& out, const Tensor& a, const std::vector<Tensor>& w, int64_t size) {
  if (w.size() == 1) {
    if (out.size(0) == 1) {
      Tensor out0 = out.select(0, 0);
      at::mm_out(out0, a.select(0, 0), w[0].select(0, 0));
    } else {
      at::bmm_out(out, a, w[0]);
    }
    return;
  }
  Tensor kappa = at::bmm(a.narrow(2, 0, size), w[0]);
  at::bmm_out(out, a.narrow(2, size, a.size(2) - size), w[2]);
  out.baddbmm_(kappa, w[1]);
}

// g (mc, B, N) += gz (mc, B, N) W, W dense [W (M, N, N)] or low rank [m / N (M, N, R), n^T]
void add_back(Tensor& g, const Tensor& gz, const std::vector<Tensor>& w) {
  if (w.size() == 1) {
    if (g.size(0) == 1) {
      g.select(0, 0).addmm_(gz.select(0, 0), w[0].select(0, 0));
    } else {
      g.baddbmm_(gz, w[0]);
    }
    return;
  }
  g.baddbmm_(at::bmm(gz, w[0]), w[1]);
}

std::vector<Tensor> members(const std::vector<Tensor>& w, int64_t m0, int64_t mc) {
  std::vector<Tensor> out;
  for (const auto& x : w) out.push_back(x.narrow(0, m0, mc));
  return out;
}

// row += sum_o gy[o] * w_out[o, :]  (the readout's gradient, O is small)
template <class T>
inline void add_readout(T* row, const T* gy, const T* w_out, int64_t outs, int64_t size) {
  for (int64_t o = 0; o < outs; ++o) {
    const T c = gy[o];
    const T* w = w_out + o * size;
    for (int64_t n = 0; n < size; ++n) row[n] += c * w[n];
  }
}

template <int A, class T>
void forward_loop(int64_t form, T slope, const Tensor& activity, const Tensor& out,
                  const std::vector<Tensor>& weights, const c10::optional<Tensor>& noise,
                  const Tensor& alpha, const Tensor& h0, int64_t chunk) {
  const int64_t M = activity.size(0), steps = activity.size(1) - 1, B = activity.size(2);
  const int64_t N = alpha.size(2);
  const Seq<T> act(activity);
  const Blk<T> start(h0);
  const T* al = alpha.data_ptr<T>();
  Seq<T> nz;
  const bool noisy = noise.has_value();
  if (noisy) nz = Seq<T>(*noise);
  const bool rate = form == 0;
  // rate: out is f(z) time-major (T, M, B, N); current: out is the states (M, T, B, N)
  const Seq<T> o = rate ? Seq<T>(out.transpose(0, 1)) : Seq<T>(out);
  for (int64_t m0 = 0; m0 < M; m0 += chunk) {
    const int64_t mc = std::min(chunk, M - m0);
    const auto w = members(weights, m0, mc);
    Tensor total;
    if (!rate) total = at::empty({mc, B, N}, activity.options());
    const Blk<T> tot = rate ? Blk<T>() : Blk<T>(total);
    for (int64_t m = m0; m < m0 + mc; ++m) {
      for (int64_t b = 0; b < B; ++b) {
        const T* x = start.row(m, b);
        T* r = act.row(m, 0, b);
        for (int64_t n = 0; n < N; ++n) r[n] = rate ? x[n] : activate<A>(x[n], slope);
      }
    }
    for (int64_t t = 0; t < steps; ++t) {
      const Tensor a_t = activity.select(1, t).narrow(0, m0, mc);
      Tensor z = rate ? out.select(0, t).narrow(0, m0, mc) : total;
      drive_into(z, a_t, w, N);
      for (int64_t m = m0; m < m0 + mc; ++m) {
        const T* a = al + m * N;
        for (int64_t b = 0; b < B; ++b) {
          const T* e = noisy ? nz.row(m, t, b) : nullptr;
          T* next = act.row(m, t + 1, b);  // r_{t+1} (rate) or f(x_{t+1}) (current)
          if (rate) {
            T* zr = o.row(m, t, b);
            const T* r = act.row(m, t, b);
            if (noisy) {
              for (int64_t n = 0; n < N; ++n) {
                const T phi = activate<A>(zr[n] + e[n], slope);
                zr[n] = phi;
                next[n] = r[n] + a[n] * (phi - r[n]);
              }
            } else {
              for (int64_t n = 0; n < N; ++n) {
                const T phi = activate<A>(zr[n], slope);
                zr[n] = phi;
                next[n] = r[n] + a[n] * (phi - r[n]);
              }
            }
          } else {
            const T* x = t == 0 ? start.row(m, b) : o.row(m, t - 1, b);
            const T* d = tot.row(m - m0, b);
            T* xn = o.row(m, t, b);
            for (int64_t n = 0; n < N; ++n) {
              const T v = x[n] + a[n] * (d[n] + (noisy ? e[n] : T(0)) - x[n]);
              xn[n] = v;
              next[n] = activate<A>(v, slope);
            }
          }
        }
      }
    }
  }
}

template <int A, class T>
void backward_loop(int64_t form, T slope, const Tensor& phi, const Tensor& gy,
                   const c10::optional<Tensor>& user, const Tensor& w_out, const Tensor& alpha,
                   const std::vector<Tensor>& weights, const Tensor& post, const Tensor& grad_h0,
                   int64_t chunk) {
  const int64_t M = gy.size(0), steps = gy.size(1), B = gy.size(2), outs = gy.size(3);
  const int64_t N = alpha.size(2);
  const Seq<T> f(phi), dy(gy), gd(post);
  const bool has_user = user.has_value();
  Seq<T> us;
  if (has_user) us = Seq<T>(*user);
  const T* al = alpha.data_ptr<T>();
  const T* wo = w_out.data_ptr<T>();
  const bool rate = form == 0;
  for (int64_t m0 = 0; m0 < M; m0 += chunk) {
    const int64_t mc = std::min(chunk, M - m0);
    const auto w = members(weights, m0, mc);
    Tensor g = at::empty({mc, B, N}, gy.options());
    Tensor through;
    if (!rate) through = at::empty({mc, B, N}, gy.options());
    const Blk<T> gb(g);
    const Blk<T> th = rate ? Blk<T>() : Blk<T>(through);
    // g = dL/d(state after the last step): readout gradient (+ the states' own gradient)
    for (int64_t m = m0; m < m0 + mc; ++m) {
      const T* a = al + m * N;
      for (int64_t b = 0; b < B; ++b) {
        T* gr = gb.row(m - m0, b);
        std::fill(gr, gr + N, T(0));
        add_readout(gr, dy.row(m, steps - 1, b), wo + m * outs * N, outs, N);
        const T* u = has_user ? us.row(m, steps - 1, b) : nullptr;
        if (rate) {
          if (u) for (int64_t n = 0; n < N; ++n) gr[n] += u[n];
        } else {
          const T* p = f.row(m, steps, b);
          T* gu = gd.row(m, steps - 1, b);
          for (int64_t n = 0; n < N; ++n) {
            gr[n] = gr[n] * slope_from_output<A>(p[n], slope) + (u ? u[n] : T(0));
            gu[n] = gr[n] * a[n];
          }
        }
      }
    }
    for (int64_t t = steps - 1; t >= 0; --t) {
      const Tensor gz = post.select(1, t).narrow(0, m0, mc).narrow(2, 0, N);
      if (!rate) {  // through = gu_t W: dL/df(x_t) through the recurrence
        if (w.size() == 1) {
          if (mc == 1) {
            Tensor th0 = through.select(0, 0);
            at::mm_out(th0, gz.select(0, 0), w[0].select(0, 0));
          } else {
            at::bmm_out(through, gz, w[0]);
          }
        } else {
          at::bmm_out(through, at::bmm(gz, w[0]), w[1]);
        }
      }
      for (int64_t m = m0; m < m0 + mc; ++m) {
        const T* a = al + m * N;
        const T* wm = wo + m * outs * N;
        for (int64_t b = 0; b < B; ++b) {
          T* gr = gb.row(m - m0, b);
          const T* p = f.row(m, t, b);
          const T* u = (has_user && t > 0) ? us.row(m, t - 1, b) : nullptr;
          if (rate) {
            T* gzr = gd.row(m, t, b);
            for (int64_t n = 0; n < N; ++n) {
              gzr[n] = gr[n] * slope_from_output<A>(p[n], slope) * a[n];
              gr[n] *= T(1) - a[n];
            }
            if (t > 0) {
              add_readout(gr, dy.row(m, t - 1, b), wm, outs, N);
              if (u) for (int64_t n = 0; n < N; ++n) gr[n] += u[n];
            }
          } else {
            T* thr = th.row(m - m0, b);
            if (t > 0) add_readout(thr, dy.row(m, t - 1, b), wm, outs, N);
            for (int64_t n = 0; n < N; ++n) {
              gr[n] = (T(1) - a[n]) * gr[n] + slope_from_output<A>(p[n], slope) * thr[n] +
                      (u ? u[n] : T(0));
            }
            if (t > 0) {
              T* gu = gd.row(m, t - 1, b);
              for (int64_t n = 0; n < N; ++n) gu[n] = gr[n] * a[n];
            }
          }
        }
      }
      if (rate) add_back(g, gz, w);  // g += gz W: dL/dr_t through the recurrence
    }
    grad_h0.narrow(0, m0, mc).copy_(g);
  }
}

void leaky_forward(int64_t form, int64_t activation, double slope, Tensor activity, Tensor out,
                   std::vector<Tensor> weights, c10::optional<Tensor> noise, Tensor alpha,
                   Tensor h0, int64_t chunk) {
  TORCH_CHECK(chunk >= 1, "rnnzoo_fused: chunk must be >= 1");
  alpha = alpha.contiguous();
  h0 = last_contiguous(h0);
  AT_DISPATCH_FLOATING_TYPES(activity.scalar_type(), "leaky_forward", [&] {
    with_activation(activation, [&](auto a) {
      forward_loop<decltype(a)::value, scalar_t>(form, static_cast<scalar_t>(slope), activity,
                                                  out, weights, noise, alpha, h0, chunk);
    });
  });
}

void leaky_backward(int64_t form, int64_t activation, double slope, Tensor phi, Tensor gy,
                    c10::optional<Tensor> user, Tensor w_out, Tensor alpha,
                    std::vector<Tensor> weights, Tensor post, Tensor grad_h0, int64_t chunk) {
  TORCH_CHECK(chunk >= 1, "rnnzoo_fused: chunk must be >= 1");
  alpha = alpha.contiguous();
  w_out = w_out.contiguous();
  gy = last_contiguous(gy);
  if (user.has_value()) user = last_contiguous(*user);
  AT_DISPATCH_FLOATING_TYPES(gy.scalar_type(), "leaky_backward", [&] {
    with_activation(activation, [&](auto a) {
      backward_loop<decltype(a)::value, scalar_t>(form, static_cast<scalar_t>(slope), phi, gy,
                                                   user, w_out, alpha, weights, post, grad_h0,
                                                   chunk);
    });
  });
}

// ---- gated cells: one step's backward gate work, rows of (M, B, .) blocks ----------------------------

template <class F>
void each_row(const Tensor& x, F&& f) {
  const int64_t M = x.size(0), B = x.size(1);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t b = 0; b < B; ++b) f(m, b);
}

// GRU backward: dh (M, B, N) = dL/dh_t in, dL/dh_{t-1} from the gates' direct path out;
// d (M, B, 3N) = gradients of [r, z pre-activations, W_hn h + b_hn] (the recurrent matmul's
// operand), dx (M, B, 3N) = those of [r, z, n pre-activations] (the drive's gradient)
void gru_backward_step(Tensor dh, Tensor saved, Tensor h_prev, Tensor d, Tensor dx) {
  const int64_t N = dh.size(2);
  AT_DISPATCH_FLOATING_TYPES(dh.scalar_type(), "gru_backward_step", [&] {
    const Blk<scalar_t> G(dh), S(saved), HP(h_prev), D(d), DX(dx);
    each_row(dh, [&](int64_t m, int64_t b) {
      rnnzoo_gates::gru_backward_row(G.row(m, b), S.row(m, b), HP.row(m, b), D.row(m, b),
                                     DX.row(m, b), N);
    });
  });
}

// LSTM backward: dh = dL/dh_t, dc = dL/dc_t (in; dc becomes dL/dc_{t-1} through f);
// d (M, B, 4N) = gradients of the gate pre-activations
void lstm_backward_step(Tensor dh, Tensor dc, Tensor gates, Tensor c_prev, Tensor tc, Tensor d) {
  const int64_t N = dh.size(2);
  AT_DISPATCH_FLOATING_TYPES(dh.scalar_type(), "lstm_backward_step", [&] {
    const Blk<scalar_t> GH(dh), GC(dc), G(gates), CP(c_prev), TC(tc), D(d);
    each_row(dh, [&](int64_t m, int64_t b) {
      rnnzoo_gates::lstm_backward_row(GH.row(m, b), GC.row(m, b), G.row(m, b), CP.row(m, b),
                                      TC.row(m, b), D.row(m, b), N);
    });
  });
}

}  // namespace

TORCH_LIBRARY(rnnzoo_fused, m) {
  m.def("leaky_forward(int form, int activation, float slope, Tensor(a!) activity, "
        "Tensor(b!) out, Tensor[] weights, Tensor? noise, Tensor alpha, Tensor h0, int chunk) -> ()",
        &leaky_forward);
  m.def("leaky_backward(int form, int activation, float slope, Tensor phi, Tensor gy, "
        "Tensor? user, Tensor w_out, Tensor alpha, Tensor[] weights, Tensor(a!) post, "
        "Tensor(b!) grad_h0, int chunk) -> ()",
        &leaky_backward);
  m.def("gru_backward_step(Tensor(a!) dh, Tensor saved, Tensor h_prev, Tensor(b!) d, "
        "Tensor(c!) dx) -> ()",
        &gru_backward_step);
  m.def("lstm_backward_step(Tensor dh, Tensor(a!) dc, Tensor gates, Tensor c_prev, Tensor tc, "
        "Tensor(b!) d) -> ()",
        &lstm_backward_step);
}
