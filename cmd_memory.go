package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"sharpflat/lab/train"
)

// memoryFlag adds --max-memory to fs: the memory a configuration may need, checked before
// anything large is allocated (train.SetMemoryLimit).
func memoryFlag(fs *flag.FlagSet) {
	fs.Var(memoryValue{}, "max-memory", fmt.Sprintf("refuse a configuration estimated to need more memory than this, e.g. 2G, 500M (default half the physical memory: %s; never above the physical memory)", train.Bytes(float64(train.DefaultMemoryLimit()))))
}

// memoryError adds the flag's name to a refusal over the memory limit: train says "the
// memory limit" (its errors reach the lab and the classroom too, where there is no flag), and
// a command that parses --max-memory says how to set it.
func memoryError(err error) error {
	if le := (*train.LimitError)(nil); errors.As(err, &le) {
		return fmt.Errorf("%w (--max-memory sets the memory limit)", err)
	}
	return err
}

// memoryValue sets the limit as soon as the flag is parsed.
type memoryValue struct{}

func (memoryValue) String() string { return "" }

func (memoryValue) Set(s string) error {
	b, err := parseBytes(s)
	if err != nil {
		return err
	}
	train.SetMemoryLimit(b)
	return nil
}

// parseBytes reads a size: a number of bytes, or with a suffix K, M, G or T (powers of
// 1024; a trailing B or iB is allowed).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q: want a size such as 512M, 2G or 1500000000", s)
	}
	return int64(v * float64(mult)), nil
}
