// Searches list: refresh the rows every few seconds while any search is active (and the tab is visible).
const table = document.getElementById("search-table");
const INTERVAL_MS = 3000;

async function refresh() {
  if (document.visibilityState === "visible") {
    try {
      const res = await fetch(table.dataset.refreshUrl, { headers: { Accept: "text/html" } });
      if (res.ok) document.getElementById("search-rows").innerHTML = await res.text();
    } catch { /* offline for a moment: keep the old rows */ }
  }
  const active = table.querySelector("tr[data-active='1']");
  setTimeout(refresh, active ? INTERVAL_MS : INTERVAL_MS * 5);
}

if (table) setTimeout(refresh, INTERVAL_MS);
