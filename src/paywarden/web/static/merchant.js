// The merchant dashboard home: sign out (the session cookie ends; the passkey sign-in is next).
import { showError, signOut } from "./webauthn.js";

document.getElementById("sign-out")?.addEventListener("click", async () => {
  try {
    await signOut();
    window.location.assign("/signin?next=/merchant");
  } catch (error) {
    showError(document.getElementById("status"), error);
  }
});
