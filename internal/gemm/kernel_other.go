//go:build !amd64 || purego

package gemm

// kernels lists the kernels this build runs: only the Go kernel.
func kernels() []kernel { return []kernel{goKernel} }
