//go:build amd64 && !purego

package gemm

// peakLoop returns the peak loop of the named kernel and its lanes.
func peakLoop(kernel string) (loop func(int), lanes int) {
	switch kernel {
	case "avx512":
		return peakAVX512, 8
	case "avx2":
		return peakAVX2, 4
	}
	return nil, 0
}
