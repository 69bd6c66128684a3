# busybox sh: pipelines, read loops, here-documents, background jobs, $(...)
seq 1 2000 | sort -r | head -3
for i in 1 2 3; do echo "line $i"; done | while read l; do echo "got $l"; done
cat <<EOT | wc -l
one
two
EOT
sleep 0.1 & p=$!; wait $p; echo "bg status $?"
( exit 7 ) & wait $!; echo "bg exit $?"
echo $(echo nested $(echo deep))
yes | head -2
false || echo "false failed"
trap 'echo trapped USR1' USR1; kill -USR1 $$; echo after trap
( echo in subshell; exit 2 ); echo "subshell $?"
i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "loop $i"; done | tail -1
