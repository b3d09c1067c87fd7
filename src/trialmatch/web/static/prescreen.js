/* Live pre-screening on a trial page.
 *
 * The questionnaire works without this script (it posts to /trials/{id}/prescreen and the page comes back
 * with the result). With it, every change asks POST /api/trials/{id}/prescreen for the result and shows it
 * in the aria-live region, "Check my answers" does the same without reloading, and "Clear my responses"
 * clears the form in place. Answers are only sent to compute the result; nothing is stored.
 * Text from the server is always set with textContent, never as HTML.
 */
(function () {
  "use strict";

  var form = document.getElementById("prescreen-form");
  var region = document.getElementById("prescreen-result");
  if (!form || !region || !window.fetch || !window.JSON) {
    return;
  }
  var apiUrl = form.getAttribute("data-api");
  var wording = JSON.parse(region.getAttribute("data-wording") || "{}");
  var pending = null;
  var timer = null;

  function answers() {
    var chosen = {};
    var inputs = form.querySelectorAll("input[type=radio]:checked");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].name.indexOf("q-") === 0) {  /* answers only, not "I am answering for" */
        chosen[inputs[i].name] = inputs[i].value;
      }
    }
    return chosen;
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function clearRegion() {
    while (region.firstChild) {
      region.removeChild(region.firstChild);
    }
    region.className = "prescreen-result";
  }

  function say(message) {
    clearRegion();
    region.appendChild(element("p", message));
  }

  function unique(texts) {
    var seen = {};
    var out = [];
    for (var i = 0; i < texts.length; i++) {
      var text = String(texts[i] || "").replace(/\s+/g, " ").trim();
      if (text && !seen[text]) {
        seen[text] = true;
        out.push(text);
      }
    }
    return out;
  }

  function perspective() {
    var chosen = form.querySelector("input[name=perspective]:checked");
    return chosen && chosen.value === "carer" ? "carer" : "self";
  }

  /* Word the questions (and the result) for the patient or for someone answering for them, in place. */
  function reword() {
    var who = perspective();
    var legends = form.querySelectorAll("legend[data-" + who + "]");
    for (var i = 0; i < legends.length; i++) {
      legends[i].textContent = legends[i].getAttribute("data-" + who);
    }
    if (Object.keys(answers()).length) {
      check();
    }
  }

  function show(body) {
    var words = (wording[perspective()] || wording)[body.result];
    if (!words) {
      say(wording.unavailable || "");
      return;
    }
    clearRegion();
    region.className = "prescreen-result verdict-" + body.result;
    var heading = element("h3", words[0], "result-heading");
    heading.setAttribute("data-result", body.result);
    region.appendChild(heading);
    region.appendChild(element("p", words[1]));
    var criteria = body.result === "not_eligible" ? body.deciding : body.result === "possibly_eligible" ? body.open : [];
    var items = unique((criteria || []).map(function (c) { return c.text; }));
    if (items.length) {
      var list = element("ul", null, "result-items");
      items.forEach(function (text) { list.appendChild(element("li", text)); });
      region.appendChild(list);
    }
    var unanswered = (body.next_questions || []).length;
    if (unanswered) {
      region.appendChild(element("p", unanswered + (unanswered === 1 ? " question" : " questions") +
        " not answered yet.", "muted"));
    }
    region.appendChild(element("p", wording.disclaimer || "", "muted"));
  }

  /* Ask the API for the result of the current answers; resolves to true when it was shown. */
  function check() {
    var given = answers();
    if (pending) {
      pending.abort();
    }
    if (!Object.keys(given).length) {
      clearRegion();
      return Promise.resolve(true);
    }
    var controller = window.AbortController ? new AbortController() : null;
    pending = controller;
    return fetch(apiUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ answers: given }),
      credentials: "omit",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("status " + response.status);
      }
      return response.json();
    }).then(function (body) {
      if (pending === controller) {
        show(body);
        pending = null;
      }
      return true;
    }).catch(function (error) {
      if (error && error.name === "AbortError") {
        return true;
      }
      say(wording.unavailable || "");
      return false;
    });
  }

  var rewordButton = document.getElementById("perspective-submit");
  if (rewordButton) {
    rewordButton.hidden = true;  /* the wording changes as soon as a choice is made */
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "perspective") {
      reword();
    } else if (event.target && event.target.type === "radio") {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 150);
    }
  });

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter || document.activeElement;
    event.preventDefault();
    if (submitter && submitter.value === "perspective") {
      reword();
      return;
    }
    if (submitter && submitter.value === "clear") {
      window.clearTimeout(timer);  /* a check still waiting for its debounce would blank the message */
      var inputs = form.querySelectorAll("input[type=radio]");
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].name.indexOf("q-") === 0) {
          inputs[i].checked = false;
        }
      }
      if (pending) {
        pending.abort();
        pending = null;
      }
      say(wording.cleared || "");
      return;
    }
    if (!Object.keys(answers()).length) {
      say(wording.none || "");
      region.focus();
      return;
    }
    check().then(function (shown) {
      if (shown) {
        region.focus();
      } else {
        form.submit(); /* the live check failed: fall back to the page's own form post */
      }
    });
  });
})();
