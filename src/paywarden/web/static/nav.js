// The site menu on a narrow screen: a Menu button shows and hides the links. Without
// scripts the links simply wrap under the brand (the button stays hidden).
const nav = document.querySelector("header.bar nav");
const button = document.getElementById("menu-button");
if (nav && button) {
  nav.dataset.collapsible = "";
  button.hidden = false;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.toggleAttribute("data-open", open);
  });
}
