package gemm

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestSysfsCaches reads a made-up sysfs cache directory (L1d, L1i, L2, L3) and checks the
// sizes as written there, the instruction cache skipped.
func TestSysfsCaches(t *testing.T) {
	dir := t.TempDir()
	for i, c := range [][3]string{{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1280K"}, {"3", "Unified", "54M"}} {
		d := filepath.Join(dir, "index"+string(rune('0'+i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j, name := range []string{"level", "type", "size"} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(c[j]+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	l1, l2, l3, ok := sysfsCaches(dir)
	if !ok || l1 != 48<<10 || l2 != 1280<<10 || l3 != 54<<20 {
		t.Errorf("sysfsCaches = %d, %d, %d, %v; want 49152, 1310720, 56623104, true", l1, l2, l3, ok)
	}
	if _, _, _, ok := sysfsCaches(filepath.Join(dir, "missing")); ok {
		t.Error("a missing directory reads as caches")
	}
}

// TestBlockN checks the block widths of the L2 sizes named in blockN's comment (hand
// calculation: l2 / (2·8·256), rounded down to a multiple of 16, within [64, 1024]).
func TestBlockN(t *testing.T) {
	for _, c := range []struct{ l2, want int }{{1 << 20, 256}, {1280 << 10, 320}, {2 << 20, 512}, {256 << 10, 64}, {32 << 20, 1024}, {0, 64}} {
		if got := blockN(c.l2); got != c.want {
			t.Errorf("blockN(%d) = %d, want %d", c.l2, got, c.want)
		}
	}
	if m := ThisMachine(); m.L1D <= 0 || m.L2 <= 0 {
		t.Errorf("ThisMachine() = %+v: no cache sizes", m)
	}
}

// TestBlockNBits checks that the width of B's blocks changes no bit of Dgemm: every kernel,
// every transpose, nc from 64 to 1024, against the product at this machine's nc.
func TestBlockNBits(t *testing.T) {
	defer func(n int) { nc = n }(nc)
	rnd := rand.New(rand.NewPCG(93, 1))
	for _, kern := range kernels() {
		for _, tr := range [][2]blas.Transpose{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.Trans}} {
			m, n, k := 37, 700, 300
			a, b := make([]float64, m*k), make([]float64, k*n)
			for i := range a {
				a[i] = rnd.NormFloat64()
			}
			for i := range b {
				b[i] = rnd.NormFloat64()
			}
			lda, ldb := k, n
			if tr[0] == blas.Trans {
				lda = m
			}
			if tr[1] == blas.Trans {
				ldb = k
			}
			nc = blockN(machine.L2)
			want := make([]float64, m*n)
			dgemm(kern, tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0, want, n)
			for _, w := range []int{64, 128, 320, 1024} {
				nc = w
				got := make([]float64, m*n)
				dgemm(kern, tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0, got, n)
				if !slices.Equal(got, want) {
					t.Fatalf("%s %v: nc = %d changes the bits", kern.name, tr, w)
				}
			}
		}
	}
}
