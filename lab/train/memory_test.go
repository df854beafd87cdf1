package train

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// memTotal reads MemTotal from /proc/meminfo with fmt.Sscanf (the reference for the
// package's own parser); 0 where there is no /proc.
func memTotal(t *testing.T) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}

// A limit above the machine's memory is capped at it: with `--max-memory 100T` a
// 100000-100000 network (about 17 TB) used to pass the check and die of a runtime
// out-of-memory fatal error with a stack dump. The refusal names the estimate and the cap.
func TestMemoryLimitCappedAtPhysicalMemory(t *testing.T) {
	phys := memTotal(t)
	if phys == 0 {
		t.Skip("no /proc/meminfo: the physical memory is not known here")
	}
	defer SetMemoryLimit(0)
	SetMemoryLimit(100 << 40)
	if got := MemoryLimit(); got != phys {
		t.Errorf("limit 100 TiB on a machine of %d bytes: MemoryLimit %d, want the physical memory", phys, got)
	}
	SetMemoryLimit(phys / 4)
	if got := MemoryLimit(); got != phys/4 {
		t.Errorf("limit below the physical memory: MemoryLimit %d, want %d", got, phys/4)
	}
	SetMemoryLimit(100 << 40)
	cfg, _ := Preset("demo")
	cfg.Hidden = []int{100000, 100000}
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "this configuration needs about") ||
		!strings.Contains(err.Error(), "physical memory "+Bytes(float64(phys))) {
		t.Errorf("New of a 100000-100000 network under a 100 TiB limit: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "--") {
		t.Errorf("the capped refusal names a command-line flag: %v", err)
	}
}

// train's refusal reaches lab and classroom users, who have no --max-memory flag: it says
// "the memory limit", names no flag, and is a *LimitError, which the commands that parse
// the flag recognise (errors.As) to add its name. 10 MiB = 10485760 B is "10.5 MB".
func TestMemoryRefusalNamesNoFlag(t *testing.T) {
	defer SetMemoryLimit(0)
	SetMemoryLimit(10 << 20)
	cfg, _ := Preset("demo")
	cfg.Hidden = []int{300, 300}
	_, err := New(cfg)
	if err == nil {
		t.Fatal("a 300-300 network under 10 MiB was accepted")
	}
	if want := "the memory limit is 10.5 MB"; !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("the refusal names a command-line flag: %v", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 10<<20 || le.Set != 0 {
		t.Errorf("errors.As(%v, *LimitError) = %+v", err, le)
	}
}
