/* exit0: the tiny binary of the exec benchmarks, linked statically by
 * tests/bench/run.sh so an exec costs the kernel's work and next to no
 * dynamic loading: the monitor's share of each exec is then as large as it
 * gets (a worst case for the overhead figures). */
#include <unistd.h>

int main(void)
{
	_exit(0);
}
