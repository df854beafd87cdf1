//go:build !amd64 || purego

package gemm

// cpuidMachine knows nothing without CPUID; detectMachine asks sysfs.
func cpuidMachine() Machine { return Machine{} }
