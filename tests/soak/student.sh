# One student of the soak (tests/soak/run.sh), sourced by bash inside the
# student's container (tests/lib.sh's student_sh), in /home/coder/project.
# Cycles edit -> save -> compile -> run until the Unix time $END, one cycle
# every $CYCLE seconds on average, and appends its ground truth to $TRUTH
# (outside the workspace, so the record is not itself recorded):
#   save FILE SHA256            a saved version of a source file
#   build CMDLINE EXIT          one compiler run
#   run CMDLINE EXIT            one program or script run
#   cell NOTEBOOK N EXIT        one executed notebook cell
# Which of ten variants a cycle takes rotates with the cycle number and the
# student's $ID: a clean run, an exit status, a compile error (the compiler's
# standard error), a crash (SIGSEGV), a program writing to standard error,
# one looping until a runner's timeout kills it, a Python script; $KIND
# notebook also runs a notebook of three cells (one raising) every third
# cycle; $KIND flood does nothing but flood while $CTL/flood exists.
set -u
cd hw1 || exit 125
RANDOM=$ID   # the same class every run
truth() { printf '%s\n' "$*" >>"$TRUTH"; }
save() {  # save FILE: FILE was written; note its content's hash
	truth save "hw1/$1" "$(sha256sum "$1" | cut -c1-64)"
}
pause() {  # pause MEAN: sleeps uniform(MEAN/2, 3*MEAN/2) seconds, in ms steps
	local ms=$(( $1 * 500 + RANDOM * $1 * 1000 / 32768 ))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

write_c() {  # write_c CYCLE VARIANT: main.c for this cycle
	local body
	case $2 in
	2) body='return undeclared_variable;' ;;                      # compile error
	3) body='volatile int *p = 0; *p = argc; return 0;' ;;         # SIGSEGV
	4) body='fprintf(stderr, "error: bad input %s\n", argv[1]); return 2;' ;;
	5) body='for (;;) { } return 0;' ;;                             # killed by timeout
	*) body='return atoi(argv[1]) % 4;' ;;
	esac
	printf '#include <stdio.h>\n#include <stdlib.h>\n/* cycle %d of student %d */\nint main(int argc, char **argv)\n{\n\t(void)argv;\n\t%s\n}\n' \
		"$1" "$ID" "$body" >main.c
	save main.c
}

cycle() {  # cycle I
	local i=$1 v=$(( (ID + $1) % 10 )) rc
	if [ "$v" = 9 ]; then
		printf 'import sys\n# cycle %d of student %d\nsys.exit(int(sys.argv[1]) %% 2)\n' "$i" "$ID" >s.py
		save s.py
		python3 s.py "$i"; truth run "python3 s.py $i" $?
		return
	fi
	write_c "$i" "$v"
	gcc -DCYCLE="$i" -o prog main.c; rc=$?
	truth build "gcc -DCYCLE=$i -o prog main.c" $rc
	[ "$rc" = 0 ] || return 0
	if [ "$v" = 5 ]; then
		# The runner's timeout, not the student, ends it: SIGTERM, 143.
		timeout 1 ./prog "$i"; truth run "./prog $i" 143
	else
		./prog "$i"; truth run "./prog $i" $?
	fi
}

notebook() {  # notebook I: nb<I>.ipynb, three cells, the second raising
	local nb=nb$1.ipynb
	"$PY" - "$nb" "$1" <<'EOF' || return 0
import sys, nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
nb = new_notebook(cells=[new_code_cell("x = %s * 2" % sys.argv[2]),
                         new_code_cell("x / 0"),
                         new_code_cell("print(x)")])
nbformat.write(nb, sys.argv[1])
NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
EOF
	save "$nb"
	truth cell "/home/coder/project/hw1/$nb" 1 0
	truth cell "/home/coder/project/hw1/$nb" 2 1
	truth cell "/home/coder/project/hw1/$nb" 3 0
}

flood() {  # a tight loop of runs and saves while the driver says so
	printf 'int main(void) { return 0; }\n' >f.c
	gcc -o f f.c
	while [ -e "$CTL/flood" ] && [ "$(date +%s)" -lt "$END" ]; do
		"$PY" -c 'import sys
for i in range(200):
    with open("f%d.c" % (i % 50), "w") as f:
        f.write("int f%d_%s;\n" % (i, sys.argv[1]))' "$RANDOM" &
		for _ in $(seq 100); do ./f; done
		wait
	done
}

i=0
pause "$CYCLE"
# The driver's directory gone (it ended early, its cleanup cannot reach
# into this namespace): stop too.
while [ "$(date +%s)" -lt "$END" ] && [ -d "$CTL" ]; do
	i=$((i + 1))
	if [ "$KIND" = flood ]; then
		if [ -e "$CTL/flood" ]; then flood; else sleep 1; fi
		continue
	fi
	cycle "$i"
	if [ "$KIND" = notebook ] && [ $((i % 3)) = 0 ]; then
		# Jupyter Server starts the kernel in the notebook's directory and
		# names the session after it.
		JPY_SESSION_NAME=/home/coder/project/hw1/nb$i.ipynb notebook "$i"
	fi
	pause "$CYCLE"
done
