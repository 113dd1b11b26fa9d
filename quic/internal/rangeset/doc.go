// Package rangeset keeps sets of uint64 values as sorted, disjoint,
// non-adjacent half-open ranges. The connection uses it for the packet
// numbers it has received (the source of ACK frames, RFC 9000 §19.3), for the
// packet numbers a peer acknowledged, and for the byte ranges of stream data
// that arrived out of order.
//
// Values usually arrive in increasing order, so adding at the end of the set
// is O(1) amortized; adding anywhere else costs a binary search plus a copy
// of the ranges after it. The set never allocates once its backing array has
// grown to the number of ranges it holds at most, which callers bound.
package rangeset
