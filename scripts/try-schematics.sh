#!/usr/bin/env bash
# CI step: the schematics as a user runs them. In a copy of this workspace
# (its files, the built libs, and node_modules linked from here, with
# @chronicle/* pointing at the copy's libs), run the real `nest g microclient`
# and `nest g` of every element into the new app, then build the workspace,
# lint and type-check the generated code, run its specs with the repo's Jest,
# and start the app and ask GET /health. Needs `npm ci` and `npm run build`
# first. Every step must succeed; the Nest CLI exits 0 even when a schematic
# fails, so what it should have written is checked.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=${1:-billing}
work=$(mktemp -d)
server=''
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n-- %s\n' "$1"; }
fail() {
  echo "try-schematics: $1" >&2
  exit 1
}
expect_file() { [[ -f $1 ]] || fail "expected $1 to exist after: $2"; }

say "copy the workspace to $work"
(cd "$repo" && { git ls-files --cached --others --exclude-standard && find libs/*/dist -type f; } |
  sort -u | while read -r f; do [[ -e $f ]] && printf '%s\n' "$f"; done |
  tar -cf - -T -) | tar -xf - -C "$work"
mkdir "$work/node_modules"
for entry in "$repo"/node_modules/* "$repo"/node_modules/.bin; do
  name=$(basename "$entry")
  [[ $name == @chronicle ]] || ln -s "$entry" "$work/node_modules/$name"
done
mkdir "$work/node_modules/@chronicle"
for lib in "$work"/libs/*/; do
  lib=${lib%/}
  ln -s "$lib" "$work/node_modules/@chronicle/$(basename "$lib")"
done
cd "$work"

say "nest g microclient $app -p $app"
# As the guide says to: in a monorepo the Nest CLI asks which project to
# generate into unless -p names it, and here there is no terminal to answer.
npx nest g microclient "$app" -p "$app" </dev/null
src=apps/$app/src
expect_file "$src/app.module.ts" "nest g microclient $app"
expect_file "$src/$app/$app.spec.ts" "nest g microclient $app"

say "nest g aggregate / command / query / event / consumer -p $app"
npx nest g aggregate invoice "$app" -p "$app" --flat
expect_file "$src/$app/invoice.aggregate.ts" 'nest g aggregate'
npx nest g command send-invoice "$app" -p "$app"
expect_file "$src/$app/send-invoice/send-invoice.handler.spec.ts" 'nest g command'
npx nest g query count-invoices "$app" -p "$app"
expect_file "$src/$app/count-invoices/count-invoices.handler.spec.ts" 'nest g query'
npx nest g event invoice-sent "$app" -p "$app"
expect_file "$src/$app/invoice-sent/invoice-sent.event.spec.ts" 'nest g event'
npx nest g consumer sent-invoices "$app" -p "$app"
expect_file "$src/$app/sent-invoices/sent-invoices.consumer.spec.ts" 'nest g consumer'

say 'build (tsc -b over the project references, the new app included)'
npm run build
expect_file "apps/$app/dist/main.js" 'npm run build'

say 'lint and type-check the generated code'
npx oxlint --deny-warnings "apps/$app"
npx prettier --check "apps/$app/**/*.ts"
npm run typecheck

say "the generated specs, with the repo's Jest"
node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
  --ci "apps/$app" 2>&1 | tee jest.log
# Seven spec files: the microclient's domain, its health probes and one per element.
grep -Eq '^Test Suites: 7 passed, 7 total' jest.log ||
  fail 'expected the 7 generated spec files to run and pass'

say "start apps/$app on the embedded store and ask GET /health, /health/live and /health/ready"
# A free port, not a fixed one: another checkout's run may be listening there.
port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });")
PORT=$port node "apps/$app/dist/main.js" >app.log 2>&1 &
server=$!
health=''
for _ in {1..60}; do
  health=$(curl -sf "http://127.0.0.1:$port/health" || true)
  [[ -n $health ]] && break
  kill -0 "$server" 2>/dev/null || { cat app.log >&2; fail 'the app exited'; }
  sleep 0.5
done
echo "$health"
[[ $health == *'"status":"ok"'* ]] || { cat app.log >&2; fail "GET /health did not answer ok"; }
for probe in live ready; do
  answer=$(curl -sf "http://127.0.0.1:$port/health/$probe" || true)
  echo "$answer"
  [[ $answer == *'"status":"ok"'* ]] || { cat app.log >&2; fail "GET /health/$probe did not answer ok"; }
done
echo 'try-schematics: all steps passed'
