// Package skiffep is skiff's side of the interop endpoint: skiff's quic,
// h3 and tls13 packages behind endpoint.Impl. Cases is the table to edit
// as features land in quic (each entry says what is missing).
package skiffep
