package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sameBits reports whether x and y have the same bits, or are both NaN (the payload of a NaN
// depends on the operand order the hardware picks, which no caller relies on).
func sameBits(x, y float64) bool {
	return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
}

// operands returns m slices of length n of random values of every magnitude, with zeros,
// subnormals, infinities and NaNs among them, as products and sums of them exercise every
// rounding case.
func operands(r *rand.Rand, m, n int) [][]float64 {
	special := []float64{0, math.Copysign(0, -1), 5e-324, -2.2e-308, math.Inf(1), math.Inf(-1), math.NaN(), 1, -1}
	out := make([][]float64, m)
	for k := range out {
		out[k] = make([]float64, n)
		for i := range out[k] {
			if r.IntN(10) == 0 {
				out[k][i] = special[r.IntN(len(special))]
				continue
			}
			out[k][i] = r.NormFloat64() * math.Exp2(float64(r.IntN(40)-20))
		}
	}
	return out
}

// The reference for each function is the plain Go loop (mulGo, mulAddMulGo, addRowsGo), the
// loops nn/passes.go ran before it called this package; the exported functions must give
// their bits, on every length (the assembly's tails), and with dst aliasing an operand.
func TestElementwiseMatchesGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 67; n++ {
		ops := operands(r, 4, n)
		a, b, c, d := ops[0], ops[1], ops[2], ops[3]

		want, got := make([]float64, n), make([]float64, n)
		mulGo(want, a, b)
		Mul(got, a, b)
		check(t, "Mul", n, got, want)
		got = append([]float64(nil), a...)
		Mul(got, got, b) // dst is a
		check(t, "Mul in place", n, got, want)

		want = append([]float64(nil), d...)
		mulAddMulGo(want, a, b, c)
		got = append([]float64(nil), d...)
		MulAddMul(got, a, b, c)
		check(t, "MulAddMul", n, got, want)
		got = append([]float64(nil), d...)
		want = append([]float64(nil), d...)
		mulAddMulGo(want, a, b, want) // c is dst
		MulAddMul(got, a, b, got)
		check(t, "MulAddMul, c is dst", n, got, want)

		for _, w := range []int{1, 3, 4, 10, 16, 17} {
			v := operands(r, 1, w)[0]
			x := operands(r, 1, n-n%w)[0]
			want = append([]float64(nil), x...)
			addRowsGo(want, v)
			got = append([]float64(nil), x...)
			AddRows(got, v)
			check(t, "AddRows", n, got, want)
		}
	}
}

func check(t *testing.T, what string, n int, got, want []float64) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s, n = %d: entry %d is %v (%#x), the Go loop gives %v (%#x)", what, n, i,
				got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// By hand: the sum of two rounded products differs from the fused form, so a fused
// multiply-add in either path would show here. 1+2⁻⁵² squared is 1+2⁻⁵¹+2⁻¹⁰⁴; rounded it is
// 1+2⁻⁵¹, and 1+2⁻⁵¹ − 1 = 2⁻⁵¹ exactly; fused, the 2⁻¹⁰⁴ would survive.
func TestMulAddMulRoundsEachProduct(t *testing.T) {
	e := 1 + math.Exp2(-52)
	dst := []float64{e, e, e, e, e}
	MulAddMul(dst, []float64{e, e, e, e, e}, []float64{-1, -1, -1, -1, -1}, []float64{1, 1, 1, 1, 1})
	for i, v := range dst {
		if v != math.Exp2(-51) {
			t.Fatalf("entry %d: %g, want 2⁻⁵¹ = %g (each product rounded)", i, v, math.Exp2(-51))
		}
	}
}

func TestElementwiseLengthsChecked(t *testing.T) {
	for name, f := range map[string]func(){
		"Mul":       func() { Mul(make([]float64, 2), make([]float64, 3), make([]float64, 2)) },
		"MulAddMul": func() { MulAddMul(make([]float64, 2), make([]float64, 2), make([]float64, 2), nil) },
		"AddRows":   func() { AddRows(make([]float64, 5), make([]float64, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s accepted slices of different lengths", name)
				}
			}()
			f()
		}()
	}
}
