// Pay an order by card (only loaded when the platform's payment provider is Stripe). The server makes
// the PaymentIntent for what is still due (POST /api/v1/orders/{id}/payment-intent); Stripe.js collects
// the card and confirms it; the webhook records the payment, so the page only reloads to show it.
(function () {
  "use strict";
  var box = document.getElementById("card-payment");
  if (!box) return;
  var button = document.getElementById("card-pay");
  var message = document.getElementById("card-message");
  function say(text) { message.textContent = text; }
  function start() {
    if (!window.Stripe) { say(message.dataset.failed); button.disabled = true; return; }
    var stripe = null, card = null;
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/v1/orders/" + box.dataset.order + "/payment-intent", {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRF-Token": box.dataset.csrf, "Content-Type": "application/json",
                  "Idempotency-Key": "card-" + box.dataset.order},
        body: "{}"
      }).then(function (resp) {
        return resp.json().then(function (body) { if (!resp.ok) throw new Error(body.message || resp.status); return body; });
      }).then(function (intent) {
        var key = intent.publishable_key || box.dataset.key;
        if (!stripe) {
          stripe = window.Stripe(key);
          card = stripe.elements().create("card");
          card.mount("#card-element");
          button.disabled = false;
          return null;  // the card form is shown: the next click pays
        }
        return stripe.confirmCardPayment(intent.client_secret, {payment_method: {card: card}});
      }).then(function (result) {
        if (result === null) return;
        if (result.error) { say(result.error.message || message.dataset.failed); button.disabled = false; return; }
        say(message.dataset.done);
        window.setTimeout(function () { window.location.reload(); }, 1500);
      }).catch(function (err) { say(String(err.message || message.dataset.failed)); button.disabled = false; });
    });
  }
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);
})();
