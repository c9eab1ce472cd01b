// Command freeports prints N distinct free TCP ports on 127.0.0.1, one a line, for the test
// harness scripts that must give peers fixed loopback ports (IPFS Cluster peers name each
// other by address, and a restarted node must come back on the same one).
//
//	freeports N
//
// Every listener stays open until all N are bound, so the ports are distinct; another process
// may still take one before the peer binds it, and the scripts retry then.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: freeports N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 || n > 64 {
		fmt.Fprintln(os.Stderr, "freeports: N must be 1..64")
		os.Exit(2)
	}
	listeners := make([]net.Listener, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "freeports:", err)
			os.Exit(1)
		}
		listeners = append(listeners, l)
	}
	for _, l := range listeners {
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
}
