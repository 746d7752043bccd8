# shellcheck shell=bash
# The batch runner (providers/ssh/batch.ts): the scripts that arrive for one host at the same
# time, as one round trip. batchScript() sets calico_batch_count, and calico_part_N (a script)
# and calico_in_N (how many bytes of this script's standard input are part N's) for each part.
# Each part runs as its own `bash --norc --noprofile`, its output and status kept in files; the
# answer is length-framed and base64-encoded (batch.ts says why), so a part may print anything.
: "${calico_batch_count:?}"
set -u
calico_batch_dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$calico_batch_dir"' EXIT
calico_batch_files=()
for ((calico_i = 0; calico_i < calico_batch_count; calico_i++)); do
  calico_var=calico_part_$calico_i calico_in=calico_in_$calico_i
  printf '%s' "${!calico_var}" > "$calico_batch_dir/s$calico_i" || exit 1
  if (( ${!calico_in} > 0 )); then
    head -c "${!calico_in}" > "$calico_batch_dir/i$calico_i" || exit 1
  else
    : > "$calico_batch_dir/i$calico_i"
  fi
done
calico_status=()
for ((calico_i = 0; calico_i < calico_batch_count; calico_i++)); do
  bash --norc --noprofile "$calico_batch_dir/s$calico_i" < "$calico_batch_dir/i$calico_i" \
    > "$calico_batch_dir/o$calico_i" 2> "$calico_batch_dir/e$calico_i"
  calico_status+=("$?")
  calico_batch_files+=("$calico_batch_dir/o$calico_i" "$calico_batch_dir/e$calico_i")
done
mapfile -t calico_sizes < <(stat -c %s -- "${calico_batch_files[@]}") || exit 1
(( ${#calico_sizes[@]} == 2 * calico_batch_count )) || exit 1
printf 'calico-batch %d\n' "$calico_batch_count"
for ((calico_i = 0; calico_i < calico_batch_count; calico_i++)); do
  printf '%d %d %d\n' "${calico_status[calico_i]}" "${calico_sizes[2 * calico_i]}" "${calico_sizes[2 * calico_i + 1]}"
done
cat -- "${calico_batch_files[@]}" | base64 -w0 || exit 1
printf '\n'
