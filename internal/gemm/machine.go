package gemm

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Machine describes the CPU the kernels run on, as far as the blocking needs it: its name,
// family and model (x86), and the sizes of its data caches in bytes (0 where unknown).
type Machine struct {
	CPU           string // brand string, e.g. "AMD EPYC" or "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
	Family, Model int    // x86 family and model (with the extended fields), 0 elsewhere
	L1D, L2, L3   int    // per-core L1 data, L2, and the (shared) L3, in bytes
	Source        string // where the cache sizes came from: "cpuid", "sysfs" or "default"
}

// String is the machine in one line, for the bench's header.
func (m Machine) String() string {
	s := m.CPU
	if s == "" {
		s = "unknown CPU"
	}
	if m.Family != 0 {
		s += fmt.Sprintf(" (family %d, model %d)", m.Family, m.Model)
	}
	return s + fmt.Sprintf(", L1d %s, L2 %s, L3 %s (%s)", kib(m.L1D), kib(m.L2), kib(m.L3), m.Source)
}

func kib(n int) string {
	switch {
	case n == 0:
		return "?"
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}

// machine is this process's CPU, detected once at start-up.
var machine = detectMachine()

// ThisMachine returns the CPU the kernels were tuned for at start-up.
func ThisMachine() Machine { return machine }

// Cache sizes assumed when neither CPUID nor sysfs tells them: those of the Zen 5 the
// blocking was first tuned on.
const (
	defaultL1D = 48 << 10
	defaultL2  = 1 << 20
)

// detectMachine asks CPUID (amd64), then Linux's sysfs, and falls back to the defaults.
func detectMachine() Machine {
	m := cpuidMachine()
	if m.L1D == 0 || m.L2 == 0 {
		if l1, l2, l3, ok := sysfsCaches("/sys/devices/system/cpu/cpu0/cache"); ok {
			m.L1D, m.L2, m.L3, m.Source = l1, l2, l3, "sysfs"
		}
	}
	if m.CPU == "" {
		m.CPU = procCPUName("/proc/cpuinfo")
	}
	if m.L1D == 0 || m.L2 == 0 {
		m.L1D, m.L2, m.Source = defaultL1D, defaultL2, "default"
	}
	return m
}

// sysfsCaches reads the data and unified caches of one CPU from dir's index*/ entries.
func sysfsCaches(dir string) (l1d, l2, l3 int, ok bool) {
	for i := 0; i < 8; i++ {
		base := fmt.Sprintf("%s/index%d/", dir, i)
		level, err1 := os.ReadFile(base + "level")
		typ, err2 := os.ReadFile(base + "type")
		size, err3 := os.ReadFile(base + "size")
		if err1 != nil || err2 != nil || err3 != nil {
			break
		}
		n := parseSize(strings.TrimSpace(string(size)))
		if strings.TrimSpace(string(typ)) == "Instruction" || n == 0 {
			continue
		}
		switch strings.TrimSpace(string(level)) {
		case "1":
			l1d = n
		case "2":
			l2 = n
		case "3":
			l3 = n
		}
	}
	return l1d, l2, l3, l1d > 0 && l2 > 0
}

// parseSize parses sysfs's "48K", "1024K", "32M".
func parseSize(s string) int {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n * mult
}

// procCPUName returns the first "model name" of /proc/cpuinfo, or "".
func procCPUName(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
