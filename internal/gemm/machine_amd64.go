//go:build amd64 && !purego

package gemm

import (
	"encoding/binary"
	"strings"
)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// cpuidMachine reads the brand string, family and model, and the cache sizes from CPUID:
// the deterministic cache parameters of leaf 4 (Intel) or 0x8000001D (AMD, with topology
// extensions), else AMD's legacy leaves 0x80000005/6.
func cpuidMachine() Machine {
	var m Machine
	maxBasic, vb, vc, vd := cpuid(0, 0)
	var v [12]byte
	binary.LittleEndian.PutUint32(v[0:], vb)
	binary.LittleEndian.PutUint32(v[4:], vd)
	binary.LittleEndian.PutUint32(v[8:], vc)
	vendor := string(v[:])
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if maxExt >= 0x80000004 {
		var brand [48]byte
		for i := uint32(0); i < 3; i++ {
			a, b, c, d := cpuid(0x80000002+i, 0)
			for j, r := range []uint32{a, b, c, d} {
				binary.LittleEndian.PutUint32(brand[16*i+4*uint32(j):], r)
			}
		}
		m.CPU = strings.TrimSpace(strings.TrimRight(string(brand[:]), "\x00"))
	}
	if maxBasic >= 1 {
		a, _, _, _ := cpuid(1, 0)
		family, model := int(a>>8&0xf), int(a>>4&0xf)
		if family == 0xf {
			family += int(a >> 20 & 0xff)
		}
		if family == 6 || family >= 0xf {
			model += int(a>>16&0xf) << 4
		}
		m.Family, m.Model = family, model
	}
	leaf := uint32(0)
	switch {
	case vendor == "GenuineIntel" && maxBasic >= 4:
		leaf = 4
	case vendor == "AuthenticAMD" && maxExt >= 0x8000001d:
		if _, _, c, _ := cpuid(0x80000001, 0); c&(1<<22) != 0 {
			leaf = 0x8000001d
		}
	}
	if leaf != 0 {
		for sub := uint32(0); sub < 16; sub++ {
			a, b, c, _ := cpuid(leaf, sub)
			typ := a & 0x1f
			if typ == 0 {
				break
			}
			if typ == 2 { // instruction cache
				continue
			}
			size := int(b>>22+1) * int(b>>12&0x3ff+1) * int(b&0xfff+1) * int(c+1)
			switch a >> 5 & 7 {
			case 1:
				m.L1D = size
			case 2:
				m.L2 = size
			case 3:
				m.L3 = size
			}
		}
	} else if vendor == "AuthenticAMD" && maxExt >= 0x80000006 {
		_, _, c5, _ := cpuid(0x80000005, 0)
		_, _, c6, d6 := cpuid(0x80000006, 0)
		m.L1D, m.L2, m.L3 = int(c5>>24)<<10, int(c6>>16)<<10, int(d6>>18)<<19
	}
	if m.L1D > 0 && m.L2 > 0 {
		m.Source = "cpuid"
	}
	return m
}
