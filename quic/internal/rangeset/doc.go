// Package rangeset keeps sets of uint64 values as sorted, disjoint,
// non-adjacent half-open ranges. Loss recovery uses it for the packet
// numbers the connection has received (the source of ACK frames, RFC 9000
// §19.3; quic/internal/recovery), and a stream's send side for the byte
// ranges the peer acknowledged and those declared lost
// (quic/internal/streambuf). Stream data received out of order is tracked
// in per-chunk bitmaps instead (streambuf), whose size the peer cannot grow.
//
// Values usually arrive in increasing order, so adding at the end of the set
// is O(1) amortized; adding anywhere else costs a binary search plus a copy
// of the ranges after it. The set never allocates once its backing array has
// grown to the number of ranges it holds at most, which callers bound.
package rangeset
