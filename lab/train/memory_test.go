package train

import (
	"bufio"
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
}
