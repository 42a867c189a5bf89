# Sourced by .ci/run (bash). Which of the machine's own apt sources serves a Debian suite:
#   debian_source CODENAME [APT_DIR]  prints "URI<TAB>SIGNED-BY" (SIGNED-BY may be empty)
# for the first enabled `deb` entry whose suite is exactly CODENAME, reading the deb822
# files (APT_DIR/sources.list.d/*.sources) first, then the one-line format
# (APT_DIR/sources.list.d/*.list, APT_DIR/sources.list). Returns 1 when there is none:
# no mirror host is guessed.
debian_source() {
  local codename=$1 dir=${2:-/etc/apt} f found
  shopt -s nullglob
  for f in "$dir"/sources.list.d/*.sources; do
    found=$(awk -v want="$codename" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " want " ") && uri != "") { print uri "\t" signed; done = 1; exit }
        types = suites = uri = signed = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { next }  # continuation lines (an inline key block) carry nothing wanted here
      {
        key = tolower($1); sub(/:$/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val); sub(/ $/, "", val)
        if (key == "types") types = val
        else if (key == "suites") suites = val
        else if (key == "uris") { uri = val; sub(/ .*/, "", uri) }
        else if (key == "signed-by" && val ~ /^\//) signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!done) flush() }
    ' "$f")
    if [ -n "$found" ]; then printf '%s\n' "$found"; shopt -u nullglob; return 0; fi
  done
  for f in "$dir"/sources.list.d/*.list "$dir"/sources.list; do
    [ -f "$f" ] || continue
    found=$(awk -v want="$codename" '
      /^[ \t]*deb[ \t]/ {
        line = $0; sub(/#.*/, "", line); signed = ""
        if (match(line, /\[[^]]*\]/)) {
          opts = substr(line, RSTART + 1, RLENGTH - 2); line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
          n = split(opts, o, /[ \t]+/)
          for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=\//) { signed = o[i]; sub(/^signed-by=/, "", signed) }
        }
        split(line, w, /[ \t]+/)
        # w[1] is empty when the line is indented
        k = (w[1] == "") ? 2 : 1
        if (w[k + 2] == want) { print w[k + 1] "\t" signed; exit }
      }
    ' "$f")
    if [ -n "$found" ]; then printf '%s\n' "$found"; shopt -u nullglob; return 0; fi
  done
  shopt -u nullglob
  return 1
}
