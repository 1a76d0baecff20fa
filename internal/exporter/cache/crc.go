package cache

// crc32Combine returns the CRC-32 (IEEE) of a||b from crc1 = CRC(a),
// crc2 = CRC(b) and len2 = len(b), without the bytes: zlib's
// crc32_combine, by multiplying crc1 by x^(8*len2) modulo the polynomial.
// It lets a gzipped scrape reuse the CRC of each cached piece.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	return multModP(x2nModP(uint64(len2), 3), crc1) ^ crc2
}

// crcPoly is the IEEE polynomial, reflected, as hash/crc32.IEEE.
const crcPoly = 0xedb88320

// x2nTable[k] is x^(2^k) modulo the polynomial.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()

// multModP returns a*b modulo the polynomial, in the reflected bit order
// CRC-32 uses (the top bit is x^0).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for a != 0 {
		if a&m != 0 {
			p ^= b
			a ^= m
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2nModP returns x^(n*2^k) modulo the polynomial.
func x2nModP(n uint64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for ; n != 0; n >>= 1 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		k++
	}
	return p
}
