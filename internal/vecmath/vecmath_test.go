package vecmath

import (
	"math"
	"testing"
)

// ulps is the distance from got to want in units of want's last place.
func ulps(got, want float64) float64 {
	if got == want || math.IsNaN(got) && math.IsNaN(want) {
		return 0
	}
	aw := math.Abs(want)
	return math.Abs(got-want) / (math.Nextafter(aw, math.Inf(1)) - aw)
}

// TestTanhGrid compares every implementation with math.Tanh on a dense grid over [−25, 25]
// (step 2⁻¹⁴), on every binade from the subnormals up, and on special values: within 2 ulp,
// and bit-identical below |x| = 0.625, where both evaluate the same rational function in the
// same order.
func TestTanhGrid(t *testing.T) {
	var xs []float64
	for i := -25 << 14; i <= 25<<14; i++ {
		xs = append(xs, math.Ldexp(float64(i), -14))
	}
	for e := -1074; e <= 1023; e++ {
		for _, m := range []float64{1, 1.0625, 1.3, 1.5, 1.75, 1.999} {
			x := m * math.Ldexp(1, e)
			xs = append(xs, x, -x)
		}
	}
	xs = append(xs, 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		0.625, math.Nextafter(0.625, 0), 44.014845965556525, 44.1, 19.06, 1e300, -math.MaxFloat64,
		math.SmallestNonzeroFloat64)
	got := make([]float64, len(xs))
	for name, tanh := range tanhImpls() {
		tanh(got, xs)
		worst, at := 0.0, 0.0
		for i, x := range xs {
			want := math.Tanh(x)
			if math.Signbit(got[i]) != math.Signbit(want) && !math.IsNaN(want) {
				t.Fatalf("%s: tanh(%v) = %v, math.Tanh %v: sign differs", name, x, got[i], want)
			}
			u := ulps(got[i], want)
			if math.Abs(x) < 0.625 && u != 0 {
				t.Fatalf("%s: tanh(%v) = %v, math.Tanh %v: want bit-identical below 0.625", name, x, got[i], want)
			}
			if u > worst {
				worst, at = u, x
			}
		}
		t.Logf("%s: %d values, worst %.2f ulp from math.Tanh at x = %v", name, len(xs), worst, at)
		if worst > 2 {
			t.Fatalf("%s: worst %.2f ulp at x = %v, want ≤ 2", name, worst, at)
		}
	}
}

// TestTanhPosition checks that an entry's result does not depend on where it sits (the last
// partial vector goes through the same code, masked or padded) and that dst may be x.
func TestTanhPosition(t *testing.T) {
	x := []float64{0.3, -1.7, 2.5, 0.7, -0.01, 5, -3.3, 0.9, 1.1, -0.2, 7.5}
	for name, tanh := range tanhImpls() {
		want := make([]float64, len(x))
		tanh(want, x)
		for n := 1; n <= len(x); n++ {
			for lo := 0; lo+n <= len(x); lo++ {
				got := append([]float64(nil), x[lo:lo+n]...)
				tanh(got, got)
				for i, v := range got {
					if math.Float64bits(v) != math.Float64bits(want[lo+i]) {
						t.Fatalf("%s: x[%d] = %v at offset %d of %d: %v, alone %v", name, lo+i, x[lo+i], i, n, v, want[lo+i])
					}
				}
			}
		}
	}
}

func TestTanhGo(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 2}
	got := make([]float64, len(x))
	tanhGo(got, x)
	for i, v := range x {
		if got[i] != math.Tanh(v) {
			t.Fatalf("tanhGo(%v) = %v", v, got[i])
		}
	}
}

func BenchmarkTanh(b *testing.B) {
	x := make([]float64, 4096)
	for i := range x {
		x[i] = float64(i)*0.002 - 4
	}
	dst := make([]float64, len(x))
	for _, name := range []string{"go", "avx2", "avx512"} {
		tanh, ok := tanhImpls()[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tanh(dst, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/value")
		})
	}
}

// TestTanhSameBits checks that the vector implementations agree bit for bit (they run the
// same operations on four or eight lanes), so that AVX2 and AVX-512 machines train alike.
func TestTanhSameBits(t *testing.T) {
	impls := tanhImpls()
	a, okA := impls["avx512"]
	b, okB := impls["avx2"]
	if !okA || !okB {
		t.Skip("needs both AVX-512 and AVX2")
	}
	var xs []float64
	for i := -30 << 12; i <= 30<<12; i++ {
		xs = append(xs, math.Ldexp(float64(i), -12)+1e-7)
	}
	xs = append(xs, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e-310)
	ga, gb := make([]float64, len(xs)), make([]float64, len(xs))
	a(ga, xs)
	b(gb, xs)
	for i := range xs {
		if math.Float64bits(ga[i]) != math.Float64bits(gb[i]) && !(math.IsNaN(ga[i]) && math.IsNaN(gb[i])) {
			t.Fatalf("tanh(%v): avx512 %v, avx2 %v", xs[i], ga[i], gb[i])
		}
	}
}
