package conn

import (
	"fmt"
	"reflect"
	"testing"
)

func TestZZSizes(t *testing.T) {
	ty := reflect.TypeOf(Conn{})
	fmt.Println("Conn", ty.Size())
	end := uintptr(0)
	for i := 0; i < ty.NumField(); i++ {
		f := ty.Field(i)
		fmt.Printf("%-22s off %4d size %4d pad-before %d\n", f.Name, f.Offset, f.Type.Size(), f.Offset-end)
		end = f.Offset + f.Type.Size()
	}
	for _, v := range []any{closeState{}, versionState{}, ackFreqState{}, streamsState{}, pathState{}, connIDState{}, pnSpace{}, datagramState{}, eventQueue{}, connFlow{}} {
		ty := reflect.TypeOf(v)
		fmt.Printf("== %s %d:", ty.Name(), ty.Size())
		for i := 0; i < ty.NumField(); i++ {
			fmt.Printf(" %s=%d", ty.Field(i).Name, ty.Field(i).Type.Size())
		}
		fmt.Println()
	}
}
