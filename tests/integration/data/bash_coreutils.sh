# bash with coreutils, findutils, grep, sed, awk, gzip and tar in pipelines. $1: a directory to list.
set -e
printf 'b\na\nc\na\n' | sort | uniq -c | sort -rn
echo "x y z" | cut -d' ' -f2 | tr a-z A-Z
seq 1 5 | xargs -n2 echo
find "$1" -name "*.txt" | sort
grep -c root /etc/passwd
echo hello world | sed 's/world/there/' | awk '{print $2, length($1)}'
echo data | gzip -c | gzip -dc
tar -C "$1" -cf - . | tar -tf - | sort | head -3
trap 'echo trapped USR1' USR1; kill -USR1 $$; echo after
f() { return 4; }; f || echo "f returned $?"
arr=(1 2 3); echo "${#arr[@]} ${arr[2]}"
