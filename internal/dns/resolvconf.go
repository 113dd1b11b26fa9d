package dns

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// resolvConfPath is where the system's resolver configuration lives.
const resolvConfPath = "/etc/resolv.conf"

// resolvConf is what this package takes from resolv.conf(5): the
// nameservers and the timeout and attempts options. Search domains, ndots,
// rotate and the rest are ignored: names are always absolute here.
type resolvConf struct {
	servers  []netip.AddrPort
	timeout  time.Duration // 0: not set
	attempts int           // 0: not set
}

// Limits glibc applies to resolv.conf (resolv.h: MAXNS, RES_MAXRETRANS,
// RES_MAXRETRY).
const (
	maxNameservers = 3
	maxTimeout     = 30 * time.Second
	maxAttempts    = 5
)

func loadResolvConf() resolvConf {
	data, err := os.ReadFile(resolvConfPath)
	if err != nil {
		return resolvConf{}
	}
	return parseResolvConf(data)
}

// parseResolvConf reads the "nameserver" and "options" lines; malformed
// lines are skipped, as the C library does.
func parseResolvConf(data []byte) resolvConf {
	var c resolvConf
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			addr, err := netip.ParseAddr(f[1])
			if err == nil && len(c.servers) < maxNameservers {
				c.servers = append(c.servers, netip.AddrPortFrom(addr, 53))
			}
		case "options":
			for _, opt := range f[1:] {
				name, val, _ := strings.Cut(opt, ":")
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 {
					continue
				}
				switch name {
				case "timeout":
					c.timeout = min(time.Duration(n)*time.Second, maxTimeout)
				case "attempts":
					c.attempts = min(n, maxAttempts)
				}
			}
		}
	}
	return c
}
